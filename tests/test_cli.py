"""The command line end to end on a few steps, and its one-line errors.

``run_dir`` is conftest.py's ``gan_run``: ``train --model gan --steps 2 --batch-size 8
--seed 3 --checkpoint-every 1``, shared and read-only.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from common.run import RunFolder
from genface.cli import main as genface
from genmnist.cli import main
from genmnist.models import RECIPES
from tests.helpers import network_state, numpy_generator


@pytest.fixture
def run_dir(gan_run):
    return gan_run


def test_train_writes_config_checkpoints_samples_and_logs(run_dir):
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["model"] == "gan" and config["fidelity"] == "legacy" and config["z_dim"] == 100
    assert config["image_shape"] == [28, 28, 1] and config["steps_done"] == 2
    assert config["global_step"] == 32  # the 30 warm-up steps come on top
    assert sorted(os.listdir(os.path.join(run_dir, "samples"))) == ["sample_0_epoch.png", "sample_1_epoch.png"]
    grid = Image.open(os.path.join(run_dir, "samples", "sample_1_epoch.png"))
    assert grid.size == (224, 224)  # 8x8 digits
    assert any(name.startswith("ckpt-") for name in os.listdir(os.path.join(run_dir, "checkpoints")))
    assert any(name.startswith("events") for name in os.listdir(os.path.join(run_dir, "logs")))


def test_generate_png_grid_and_npz_arrays(run_dir, tmp_path):
    assert main(["generate", "--run", run_dir, "-n", "10", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (4 * 28, 3 * 28)
    assert main(["generate", "--run", run_dir, "-n", "5", "--seed", "1", "--out", str(tmp_path / "g.npz")]) == 0
    with np.load(tmp_path / "g.npz") as out:
        assert out["images"].shape == (5, 28, 28, 1) and out["images"].dtype == np.uint8
        assert out["raw"].dtype == np.float32 and out["raw"].min() >= -1  # tanh, before scaling
        expected = np.rint(np.clip(out["raw"], 0, 1) * 255).astype(np.uint8)
        np.testing.assert_array_equal(out["images"], expected)


def test_generate_from_a_z_file_is_the_generator_on_those_vectors(run_dir, tmp_path):
    z = np.random.default_rng(0).standard_normal((6, 100)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    assert main(["generate", "--run", run_dir, "--z", str(tmp_path / "z.npy"), "--out", str(tmp_path / "a.npz")]) == 0
    with np.load(tmp_path / "a.npz") as out:
        np.testing.assert_array_equal(out["z"], z)
        weights = network_state(RunFolder.open(run_dir, RECIPES).load_model(RECIPES).generator)
        np.testing.assert_allclose(out["raw"], numpy_generator(weights, z), rtol=0, atol=1e-5)


def test_legacy_generation_normalises_by_the_statistics_of_the_whole_z_batch(run_dir, tmp_path):
    z = np.random.default_rng(1).standard_normal((8, 100)).astype(np.float32)
    np.save(tmp_path / "z8.npy", z)
    np.save(tmp_path / "z4.npy", z[:4])
    for name in ("z8", "z4"):
        assert main(["generate", "--run", run_dir, "--z", str(tmp_path / f"{name}.npy"),
                     "--out", str(tmp_path / f"{name}.npz")]) == 0
    weights = network_state(RunFolder.open(run_dir, RECIPES).load_model(RECIPES).generator)
    # Q2: each batch normalised by its own statistics, as the original's prediction ran;
    # the first four digits of the eight are not the four made alone.
    whole, half = np.load(tmp_path / "z8.npz")["raw"], np.load(tmp_path / "z4.npz")["raw"]
    np.testing.assert_allclose(whole, numpy_generator(weights, z), rtol=0, atol=1e-5)
    np.testing.assert_allclose(half, numpy_generator(weights, z[:4]), rtol=0, atol=1e-5)


def test_resume_continues_to_the_new_total(run_dir, tmp_path):
    run = shutil.copytree(run_dir, str(tmp_path / "gan"))  # the shared run stays as it is
    assert main(["train", "--resume", "--steps", "3", "--out", run]) == 0
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["steps_done"] == 3 and config["global_step"] == 33


def exit_status(argv):
    """main's status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "/no/such.npz", "--out", "{tmp}/x"], "/no/such.npz: no such file"),
    (["train", "--batch-size", "0", "--out", "{tmp}/x"], "expected a number of at least 1"),
    (["train", "--learning-rate", "nan", "--out", "{tmp}/x"], "positive finite number"),
    (["generate", "--run", "{tmp}", "--out", "{tmp}/g.png"], "not a run folder"),
    (["generate", "--run", "{run}", "--z", "{tmp}/bad_z.npy", "--out", "{tmp}/g.png"], r"shape \(3, 7\), this model needs \[N, 100\]"),
    (["generate", "--run", "{run}", "--out", "{tmp}/g.gif"], "expected a .png"),
    (["train", "--resume", "--model", "wgan", "--out", "{run}"], "--model wgan contradicts the run's model gan"),
])
def test_bad_input_is_one_line_with_exit_status_2(run_dir, tmp_path, capsys, argv, message):
    np.save(tmp_path / "bad_z.npy", np.zeros((3, 7), np.float32))
    argv = [a.format(tmp=tmp_path, run=run_dir) for a in argv]
    assert exit_status(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(message, err), err
    assert len(err.strip().splitlines()) == 1
    assert re.match(r"genmnist( \w+)?: error: ", err)


def test_the_module_runs_as_a_program_with_help():
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-m", "genmnist", "train", "--help"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0
    for option in ("--model", "--data", "--steps", "--batch-size", "--learning-rate", "--seed",
                   "--fidelity", "--checkpoint-every", "--resume", "--out"):
        assert option in out.stdout


COMMANDS = ("train", "generate", "export", "import-keras", "import-tf1", "export-tf1", "compare", "evaluate")


def help_text(program, argv, capsys, monkeypatch):
    """``program ARGV --help`` on one line per paragraph (no wrapping to cut a phrase)."""
    monkeypatch.setenv("COLUMNS", "10000")
    with pytest.raises(SystemExit) as exit:
        program([*argv, "--help"])
    assert exit.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("argv", [[]] + [[command] for command in COMMANDS])
def test_genface_help_speaks_of_faces_only(argv, capsys, monkeypatch):
    text = help_text(genface, argv, capsys, monkeypatch)
    assert "usage: genface" in text
    # "gan" and "wgan" name the MNIST models; the faces model is a WGAN-GP.
    for mnist in (r"\bgan\b", r"\bwgan\b", r"\bWGANs\b", "(?i)digit", "MNIST", "(?i)vanilla", "GANModel",
                  "discriminator-only warm-up"):
        assert not re.search(mnist, text), (mnist, text)
    if argv in ([], ["train"]):
        assert "warm-up" not in text


def test_genface_help_gives_the_faces_defaults(capsys, monkeypatch):
    text = help_text(genface, ["train"], capsys, monkeypatch)
    assert "default: the original's (50000)" in text
    assert "images per batch (default: the original's, 64)" in text
    assert "Adam learning rate (default: the original's, 0.0001)" in text
    assert "score generated faces" in help_text(genface, [], capsys, monkeypatch)


def test_genmnist_train_help_still_gives_the_defaults_of_both_models(capsys, monkeypatch):
    text = help_text(main, ["train"], capsys, monkeypatch)
    assert "(gan's 30 discriminator-only warm-up steps come on top)" in text
    assert "default: the original's (gan 10000, wgan 500000)" in text
    assert "images per batch (default: the original's, gan 128, wgan 64)" in text
    assert "Adam learning rate (default: the original's, gan 0.0005, wgan 0.0001)" in text
    assert "face" not in text
    assert "score generated digits" in help_text(main, [], capsys, monkeypatch)
