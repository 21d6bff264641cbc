"""Shared test set-up: quiet TensorFlow, a --runslow flag, and the fixtures several files use.

Session fixtures are built once and must be treated as read-only: a test that trains on,
resumes or rewrites one of them copies it first (``shutil.copytree`` into ``tmp_path``).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (multi-process clusters, full-size face "
                          "models, long training)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def digits():
    """The embedded 10,000 MNIST digits, uint8 [N, 28, 28, 1], as ``train`` reads them by default."""
    from common import data
    from genmnist import EMBEDDED

    images = data.read_images(EMBEDDED, (28, 28, 1))
    images.setflags(write=False)
    return images


@pytest.fixture(scope="session")
def real_models():
    """The full-size MNIST models, built once (seed 3); for tests that only look at them."""
    from common.adversarial import build_model
    from genmnist.models import GAN, WGAN

    return {"gan": build_model(GAN, seed=3), "wgan": build_model(WGAN, seed=3)}


@pytest.fixture(scope="session")
def face_models():
    """The 23M-parameter faces model in both fidelities (seed 5), built once; read-only."""
    from common.adversarial import build_model
    from genface.models import FACE

    return {fidelity: build_model(FACE, fidelity, seed=5) for fidelity in ("legacy", "fixed")}


@pytest.fixture(scope="session")
def gan_run(tmp_path_factory):
    """``genmnist train --model gan --steps 2 --batch-size 8 --seed 3 --checkpoint-every 1``.

    A vanilla GAN run folder in legacy fidelity: 30 warm-up steps and 2 iterations, a
    checkpoint after each iteration, sample grids 0 and 1. Read-only.
    """
    from genmnist.cli import main

    out = str(tmp_path_factory.mktemp("gan_run") / "gan")
    assert main(["train", "--model", "gan", "--steps", "2", "--batch-size", "8", "--seed", "3",
                 "--checkpoint-every", "1", "--out", out]) == 0
    return out


def _face_run(root, recipes=None):
    """``genface train`` for 2 iterations at batch 2 on a folder of eight cartoon PNGs.

    The memory budget is set below the folder's 216 KiB, so the run streams its faces from
    disk: the whole file-backed path, through ``fit``, end to end.
    """
    import dataclasses

    from common import cli
    from genface import cartoon
    from genface.cli import family

    cartoon.write_face_folder(str(root / "faces"), 8, seed=3)
    out = str(root / "run")
    program = family() if recipes is None else dataclasses.replace(family(), recipes=recipes)
    assert cli.main(program, ["train", "--data", str(root / "faces"), "--steps", "2", "--batch-size", "2",
                              "--seed", "9", "--checkpoint-every", "0", "--memory-budget-mb", "0.1",
                              "--out", out]) == 0
    return out


@pytest.fixture(scope="session")
def face_run(tmp_path_factory):
    """:func:`_face_run` on the faces recipe with narrow layers (``fixtures/tiny_models.py``):
    the command line, data path and run folder of ``genface``, in seconds. Read-only."""
    from tests.fixtures.tiny_models import TINY_FACE_RECIPES

    return _face_run(tmp_path_factory.mktemp("face_run"), TINY_FACE_RECIPES)


@pytest.fixture(scope="session")
def full_face_run(tmp_path_factory):
    """:func:`_face_run` on the full-size faces model (23M parameters a network). Read-only."""
    return _face_run(tmp_path_factory.mktemp("full_face_run"))


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory):
    """A cache folder holding the MNIST classifier trained for ONE epoch (12 in real use).

    Trained once per session; tests that evaluate point ``GAN_PORT_CACHE`` here and accept
    its lower accuracy (see ``quick_classifier`` in test_evaluate.py).
    """
    from genmnist import classifier

    folder = str(tmp_path_factory.mktemp("classifier_cache"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GAN_PORT_CACHE", folder)
        full = classifier.train_classifier
        patch.setattr(classifier, "train_classifier", lambda **kw: full(epochs=1, **kw))
        patch.setattr(classifier, "MIN_ACCURACY", 0.8)
        classifier.load_classifier(print_fn=lambda *a: None)
    return folder


@pytest.fixture
def deterministic_ops():
    """TensorFlow's deterministic kernels (stays on for the rest of the session, as it must)."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
