"""evaluate end to end: a run, an images file; the classifier trained at first use and cached."""

import json

import numpy as np
import pytest

from genmnist import classifier
from genmnist import EMBEDDED
from genmnist.cli import main


@pytest.fixture
def quick_classifier(classifier_cache, monkeypatch):
    """The session's one-epoch classifier (conftest.py): these tests pin the wiring, not the
    accuracy. Training again here would be a bug: ``train_classifier`` refuses."""
    monkeypatch.setenv("GAN_PORT_CACHE", classifier_cache)
    monkeypatch.setattr(classifier, "MIN_ACCURACY", 0.8)

    def no_training(**kwargs):
        raise AssertionError("the cached classifier was not found; evaluate trained a new one")

    monkeypatch.setattr(classifier, "train_classifier", no_training)


def test_evaluate_real_digits_scores_near_the_ceiling(tmp_path, quick_classifier, capsys):
    with np.load(EMBEDDED) as archive:
        np.savez(tmp_path / "real.npz", images=archive["x"][::20, ..., None])  # sorted by class
    assert main(["evaluate", "--images", str(tmp_path / "real.npz"), "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads(open(tmp_path / "r.json").read())
    assert report["classifier_accuracy"] >= 0.8
    generated, ceiling = report["generated"], report["real_held_out"]
    assert generated["samples"] == 500 and ceiling["samples"] == 2000
    assert 1 <= generated["classifier_score"] <= 10
    # Real digits score like the held-out real digits (a one-epoch classifier is unsure, so
    # the absolute score is low here; the real one's ceiling is about 9.6).
    assert generated["classifier_score"] == pytest.approx(ceiling["classifier_score"], rel=0.2)
    assert sum(generated["class_fractions"]) == pytest.approx(1.0, abs=1e-3)
    assert generated["frechet_distance"] < 20 * max(ceiling["frechet_distance"], 0.5)
    assert "held-out accuracy" in capsys.readouterr().err  # the classifier's, with every report


def test_evaluate_a_collapsed_generator_scores_badly(tmp_path, quick_classifier):
    with np.load(EMBEDDED) as archive:
        one_digit = np.repeat(archive["x"][:1, ..., None], 300, axis=0)
    np.savez(tmp_path / "same.npz", images=one_digit)
    assert main(["evaluate", "--images", str(tmp_path / "same.npz"), "--out", str(tmp_path / "s.json")]) == 0
    report = json.loads(open(tmp_path / "s.json").read())
    assert report["generated"]["classifier_score"] == pytest.approx(1.0, abs=1e-6)
    assert max(report["generated"]["class_fractions"]) == 1.0
    assert report["generated"]["frechet_distance"] > 5 * report["real_held_out"]["frechet_distance"]


def test_evaluate_a_run_folder(tmp_path, quick_classifier, gan_run):
    assert main(["evaluate", "--run", gan_run, "-n", "64", "--out", str(tmp_path / "g.json")]) == 0
    assert json.loads(open(tmp_path / "g.json").read())["generated"]["samples"] == 64


@pytest.mark.slow
def test_the_real_classifier_reaches_98_percent_held_out(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_PORT_CACHE", str(tmp_path))
    _, accuracy = classifier.load_classifier()
    assert accuracy >= 0.98


def test_train_eval_every_logs_the_mnist_numbers():
    result = {"samples": 4, "classifier_score": 3.5, "frechet_distance": 12.0,
              "class_fractions": [0.5, 0.25, 0.25] + [0.0] * 7}
    assert classifier.MnistScorer.scalars(result) == {
        "classifier_score": 3.5, "frechet_distance": 12.0, "largest_class_fraction": 0.5}
