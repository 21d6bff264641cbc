"""genface evaluate: the face scorer, its cache and floors, the command end to end, KID."""

import json
import os

import numpy as np
import pytest

from common.errors import UserError
from genface import cartoon, scorer
from genface.cli import main

# The real recipe trains on 8,000 faces for 12 epochs (minutes); this one only shows
# that the classifier learns, and lets the tests pin the wiring.
QUICK = dict(faces=1024, held_out=256, reference=128, epochs=4)
# The real recipe and floors, kept before quick_scorer replaces them for the module.
REAL_TRAINING, REAL_FLOORS = scorer.train_classifier, dict(scorer.MIN_ACCURACY)


@pytest.fixture(scope="module")
def quick_scorer(tmp_path_factory):
    """A classifier trained on :data:`QUICK` faces, once for the module, cached in a temporary folder.

    Every test that builds a scorer or runs evaluate loads it from there.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GAN_PORT_CACHE", str(tmp_path_factory.mktemp("cache")))
        full = scorer.train_classifier
        trained = []
        patch.setattr(scorer, "train_classifier", lambda **kw: trained.append(1) or full(**QUICK, **kw))
        patch.setattr(scorer, "MIN_ACCURACY", {factor: 0.0 for factor in scorer.FACTORS})
        yield trained, scorer.FaceScorer(print_fn=lambda message: None)


def test_the_scorer_trains_once_and_then_loads_from_the_cache(quick_scorer):
    trained, first = quick_scorer
    second = scorer.FaceScorer(print_fn=lambda message: None)
    assert trained == [1]
    assert list(second.accuracy) == list(scorer.FACTORS)
    assert second.accuracy == first.accuracy
    faces = cartoon.draw_faces(8, seed=9)
    assert second.score(faces)["frechet_distance"] == pytest.approx(first.score(faces)["frechet_distance"])


def test_the_quick_classifier_learns_the_easy_factors(quick_scorer):
    _, face_scorer = quick_scorer
    _, labels = cartoon.draw_labelled_faces(QUICK["held_out"], scorer.SEED, start=QUICK["faces"])
    for factor in ("face_shape", "hair_colour", "hair_style", "background"):
        majority = np.bincount(labels[factor]).max() / len(labels[factor])
        assert face_scorer.accuracy[factor] > majority + 0.08, factor


@pytest.mark.slow
def test_the_real_classifier_reaches_its_floors(tmp_path, monkeypatch):
    # Run after a test that used quick_scorer, the module would otherwise train the quick
    # recipe here and judge it by floors of 0.
    monkeypatch.setenv("GAN_PORT_CACHE", str(tmp_path))
    monkeypatch.setattr(scorer, "train_classifier", REAL_TRAINING)
    monkeypatch.setattr(scorer, "MIN_ACCURACY", REAL_FLOORS)
    _, accuracy, arrays = scorer.load_classifier()  # refuses a classifier below its floors
    assert all(accuracy[factor] >= floor for factor, floor in scorer.MIN_ACCURACY.items())
    assert arrays["held_out_features"].shape == (scorer.HELD_OUT, 128)


def test_scores_have_a_coverage_per_factor_and_real_faces_score_like_the_ceiling(quick_scorer):
    _, face_scorer = quick_scorer
    ceiling = face_scorer.ceiling()
    generated = face_scorer.score(cartoon.draw_faces(64, seed=5) / 255.0)
    assert ceiling["samples"] == QUICK["held_out"] and generated["samples"] == 64
    for result in (ceiling, generated):
        assert list(result["coverage"]) == list(cartoon.FACTORS)
        for factor, coverage in result["coverage"].items():
            assert list(coverage["fractions"]) == list(cartoon.FACTORS[factor])
            assert sum(coverage["fractions"].values()) == pytest.approx(1.0, abs=1e-3)
            assert 1 <= coverage["classes_shown"] <= coverage["classes"] == len(cartoon.FACTORS[factor])
            assert 0.0 <= coverage["entropy"] <= 1.0
        assert result["frechet_distance"] >= 0.0
    # A collapsed generator: one face, over and over.
    same = face_scorer.score(np.repeat(cartoon.draw_faces(1, seed=5), 64, axis=0))
    assert all(c["classes_shown"] == 1 and c["entropy"] == 0.0 for c in same["coverage"].values())
    assert same["frechet_distance"] > 2 * generated["frechet_distance"]
    scalars = face_scorer.scalars(generated)
    assert scalars["frechet_distance"] == generated["frechet_distance"]
    assert {f"coverage/{f}" for f in cartoon.FACTORS} <= set(scalars)
    assert {f"entropy/{f}" for f in cartoon.FACTORS} <= set(scalars)


def test_factor_coverage_by_hand():
    p = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.3, 0.1], [0.7, 0.2, 0.1]])
    coverage = scorer.factor_coverage(p, ("a", "b", "c"))
    # argmaxes a, b, a, a: fractions 0.75, 0.25, 0; entropy -(0.75 ln 0.75 + 0.25 ln 0.25) / ln 3
    assert coverage["fractions"] == {"a": 0.75, "b": 0.25, "c": 0.0}
    assert coverage["classes_shown"] == 2 and coverage["classes"] == 3
    assert coverage["entropy"] == pytest.approx(0.5119, abs=1e-4)


def test_the_floors_refuse_a_classifier_that_falls_short(quick_scorer, monkeypatch):
    monkeypatch.setattr(scorer, "MIN_ACCURACY", {factor: 1.01 for factor in scorer.FACTORS})
    with pytest.raises(UserError, match="floors.*delete .*face_classifier_v"):
        scorer.FaceScorer(print_fn=lambda message: None)


def test_the_cache_name_follows_the_version_and_the_recipe(monkeypatch):
    name = scorer.cache_name()
    assert name.startswith(f"face_classifier_v{scorer.VERSION}_")
    monkeypatch.setattr(scorer, "EPOCHS", scorer.EPOCHS + 1)
    assert scorer.cache_name() != name


def test_own_faces_are_split_into_reference_and_held_out_by_a_seed():
    faces = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    reference, held = scorer.split_real_faces(faces, held_out=3)
    assert len(reference) == 7 and len(held) == 3
    assert not set(reference[:, 0, 0, 0]) & set(held[:, 0, 0, 0])
    again, _ = scorer.split_real_faces(faces, held_out=3)
    np.testing.assert_array_equal(again, reference)
    reference, held = scorer.split_real_faces(faces, held_out=2000)
    assert len(reference) == 5 and len(held) == 5  # at most half held out
    with pytest.raises(UserError, match="at least 4"):
        scorer.split_real_faces(faces[:3])


# --- the command -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(quick_scorer, tmp_path_factory):
    """A two-step run on 16 cartoon faces, scored on 64 samples at step 2 (train --eval-every)."""
    from common import evaluation

    out = str(tmp_path_factory.mktemp("runs") / "run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluation, "MONITOR_SAMPLES", 64)
        assert main(["train", "--steps", "2", "--batch-size", "4", "--data", "cartoon:16", "--seed", "1",
                     "--checkpoint-every", "0", "--eval-every", "2", "--out", out]) == 0
    return out


def test_evaluate_a_run_folder_from_the_command_line(tmp_path, tiny_run, capsys):
    out = tiny_run
    assert main(["evaluate", "--run", out, "-n", "16", "--out", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr()
    report = json.loads(printed.out)
    assert report == json.loads(open(tmp_path / "r.json").read())
    assert report["source"] == out and report["reference"].startswith("cartoon faces")
    assert list(report["classifier_accuracy"]) == list(cartoon.FACTORS)
    assert report["generated"]["samples"] == 16
    assert report["real_held_out"]["samples"] == QUICK["held_out"]
    assert set(report["generated"]["coverage"]) == set(cartoon.FACTORS)
    assert not any("mean little" in note or "your own faces" in note for note in report["notes"])


def test_evaluate_against_own_faces_says_coverage_means_little(tmp_path, quick_scorer, capsys):
    folder = str(tmp_path / "mine")
    cartoon.write_face_folder(folder, 12, seed=3)
    np.savez(tmp_path / "gen.npz", images=cartoon.draw_faces(6, seed=4))
    assert main(["evaluate", "--images", str(tmp_path / "gen.npz"), "--data", folder]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reference"].startswith(folder) and "6 faces; 6 more held out" in report["reference"]
    assert report["generated"]["samples"] == 6 and report["real_held_out"]["samples"] == 6
    assert any("mean little" in note for note in report["notes"])
    assert any(note.startswith("frechet_distance on your own faces") and "--inception-weights" in note
               for note in report["notes"])
    assert "kernel_inception_distance" not in report["generated"]


def test_a_run_trained_with_resize_is_evaluated_and_resumed_as_it_was_read(tmp_path, quick_scorer, capsys):
    import cv2

    folder = tmp_path / "my photos"
    folder.mkdir()
    for k, face in enumerate(cartoon.draw_faces(12, seed=3)):  # 120x100, not the model's 96x96
        cv2.imwrite(str(folder / f"face {k}.jpg"), cv2.resize(face[..., ::-1], (120, 100)))
    out = str(tmp_path / "run")
    assert main(["train", "--data", str(folder), "--resize", "--steps", "1", "--batch-size", "4", "--seed", "1",
                 "--checkpoint-every", "0", "--out", out]) == 0
    assert json.loads(open(os.path.join(out, "config.json")).read())["data_options"] == {"resize": True}
    capsys.readouterr()
    assert main(["evaluate", "--run", out, "-n", "6"]) == 0  # no --resize: the run's own reading
    report = json.loads(capsys.readouterr().out)
    assert report["reference"].startswith(str(folder)) and report["real_held_out"]["samples"] == 6
    assert main(["evaluate", "--run", out, "--data", str(folder), "-n", "6"]) == 0
    assert main(["train", "--resume", "--steps", "2", "--out", out]) == 0
    assert json.loads(open(os.path.join(out, "config.json")).read())["steps_done"] == 2
    other = tmp_path / "other"  # another folder is read as the command says
    other.mkdir()
    for k in range(4):
        cv2.imwrite(str(other / f"{k}.png"), cv2.resize(cartoon.draw_faces(1, seed=4 + k)[0], (50, 50)))
    capsys.readouterr()
    assert main(["evaluate", "--run", out, "--data", str(other), "-n", "6"]) == 2
    error = capsys.readouterr().err
    assert "image is 50x50" in error and "pass --resize" in error


@pytest.mark.parametrize("images, message", [
    (np.zeros((5, 28, 28, 1), np.uint8), "shape"),
    (np.zeros((0, 96, 96, 3), np.uint8), "at least 2"),
    (np.zeros((1, 96, 96, 3), np.uint8), "at least 2"),
])
def test_bad_images_are_one_line_before_any_training(tmp_path, monkeypatch, capsys, images, message):
    monkeypatch.setenv("GAN_PORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(scorer, "train_classifier", lambda **kw: pytest.fail("trained a classifier"))
    np.savez(tmp_path / "bad.npz", images=images)
    assert main(["evaluate", "--images", str(tmp_path / "bad.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genface: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_missing_own_faces_are_one_line_before_any_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_PORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(scorer, "train_classifier", lambda **kw: pytest.fail("trained a classifier"))
    np.savez(tmp_path / "gen.npz", images=cartoon.draw_faces(2, seed=4))
    assert main(["evaluate", "--images", str(tmp_path / "gen.npz"), "--data", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere: no such file or folder" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [None, b"not weights"])
def test_bad_inception_weights_are_one_line_naming_the_file(tmp_path, monkeypatch, capsys, content):
    monkeypatch.setenv("GAN_PORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(scorer, "train_classifier", lambda **kw: pytest.fail("trained a classifier"))
    weights = tmp_path / "inception.h5"
    if content is not None:
        weights.write_bytes(content)
    np.savez(tmp_path / "gen.npz", images=cartoon.draw_faces(2, seed=4))
    assert main(["evaluate", "--images", str(tmp_path / "gen.npz"), "--inception-weights", str(weights)]) == 2
    err = capsys.readouterr().err
    assert f"--inception-weights {weights}" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow  # builds InceptionV3; the kernel distance itself is test_metrics'
def test_kernel_inception_distance_with_a_weights_file_the_user_gives(tmp_path, quick_scorer, monkeypatch, capsys):
    import keras

    from common import inception

    # Random weights, saved as a user's file would be; the weights do not depend on the
    # input size, so a small one keeps the test quick.
    monkeypatch.setattr(inception, "INPUT_SIZE", 75)
    keras.utils.set_random_seed(0)
    keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg",
                                   input_shape=(75, 75, 3)).save_weights(tmp_path / "tiny.weights.h5")
    folder = str(tmp_path / "mine")
    cartoon.write_face_folder(folder, 12, seed=3)
    np.savez(tmp_path / "gen.npz", images=cartoon.draw_faces(6, seed=4))
    assert main(["evaluate", "--images", str(tmp_path / "gen.npz"), "--data", folder, "--kid-samples", "4",
                 "--inception-weights", str(tmp_path / "tiny.weights.h5")]) == 0
    report = json.loads(capsys.readouterr().out)
    for result in (report["generated"], report["real_held_out"]):
        assert np.isfinite(result["kernel_inception_distance"])
    assert any("kernel_inception_distance" in note for note in report["notes"])


def test_train_eval_every_logs_the_face_numbers_to_tensorboard(tiny_run):
    import tensorflow as tf

    tags = set()
    for root, _, files in os.walk(tiny_run):
        for name in files:
            if name.startswith("events.out.tfevents"):
                for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                    tags |= {value.tag for value in event.summary.value}
    assert {"eval/frechet_distance", "eval/coverage/hair_colour", "eval/entropy/expression"} <= tags
