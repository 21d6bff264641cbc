"""Issue 14: the best checkpoint, the averaged generator (EMA), --max-minutes for every model,
interpolation and truncation in generate. Tiny runs (batch 8, a few iterations)."""

import dataclasses
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from common import cli as common_cli
from common import data, evaluation, images, latents, training
from common.arguments import checkpoint_choice
from common.callbacks import display_iterations
from common.errors import UserError
from common.run import RunFolder
from common.settings import RunConfig
from genmnist import cli as mnist_cli
from genmnist import EMBEDDED
from genmnist.cli import main
from genmnist.models import RECIPES
from tests.helpers import one_line, status_of

DECAY = 0.9


@pytest.fixture(scope="module")
def digits():
    return data.read_images(EMBEDDED, (28, 28, 1))[:64]


def new_run(path, model="gan", fidelity="legacy", steps=4, ema_decay=None):
    recipe = RECIPES[model]
    config = RunConfig(model=model, fidelity=fidelity, z_dim=recipe.z_dim, image_shape=recipe.image_shape,
                       seed=4, batch_size=8, learning_rate=recipe.default_learning_rate, steps=steps,
                       ema_decay=ema_decay)
    return RunFolder.create(str(path), config)


def quiet(*args):
    pass


# --- the best checkpoint -------------------------------------------------------------------------


class ScriptedScorer:
    """Frechet distances from a script, one per evaluation; keeps the images it was given."""

    def __init__(self, distances):
        self.distances, self.seen = list(distances), []

    def score(self, generated):
        self.seen.append(np.array(generated))
        distance = self.distances[len(self.seen) - 1]
        return {"samples": len(generated), "classifier_score": 10.0 - distance,
                "frechet_distance": distance, "class_fractions": [0.1] * 10}

    def scalars(self, result):
        return {"frechet_distance": result["frechet_distance"]}


DISTANCES = [5.0, 2.0, 4.0, 3.0, 6.0]  # iterations 1..5: the lowest is iteration 2


EVAL_SAMPLES = 64  # instead of 1000: these tests pin which checkpoint is kept, not the scores


class SmallEvaluationMonitor(evaluation.EvaluationMonitor):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "count": EVAL_SAMPLES})


@pytest.fixture(scope="module")
def best_run(tmp_path_factory):
    """A vanilla GAN trained 5 iterations through the command line with --eval-every 1."""
    scorer = ScriptedScorer(DISTANCES)
    family = dataclasses.replace(mnist_cli.family(), evaluator=lambda **_: scorer)
    out = str(tmp_path_factory.mktemp("best") / "gan")
    argv = ["train", "--steps", "5", "--batch-size", "8", "--seed", "6", "--eval-every", "1",
            "--checkpoint-every", "1", "--out", out]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluation, "EvaluationMonitor", SmallEvaluationMonitor)
        assert common_cli.main(family, argv) == 0
    return out, family, scorer


def test_the_best_checkpoint_is_the_one_with_the_lowest_recorded_distance(best_run):
    out, family, scorer = best_run
    assert len(scorer.seen) == len(DISTANCES)
    run = RunFolder.open(out, RECIPES)
    best = run.config.best
    assert best["iteration"] == 2 and best["step"] == 30 + 2
    assert best["frechet_distance"] == 2.0 and best["classifier_score"] == 8.0 and best["samples"] == EVAL_SAMPLES
    # Outside the rotation: checkpoints/ keeps iterations 3..5, best/ only iteration 2.
    assert [c.step for c in run.checkpoints()] == [33, 34, 35]
    assert sorted(os.listdir(run.best_dir)) == ["ckpt-32.data-00000-of-00001", "ckpt-32.index"]
    # The kept weights are those that made the images scored 2.0.
    regenerated, _ = evaluation.generate_from_run(out, family, EVAL_SAMPLES, seed=6, which="best")
    np.testing.assert_array_equal(regenerated, scorer.seen[1])
    assert not np.array_equal(regenerated, scorer.seen[4])


def test_generate_uses_the_best_checkpoint_by_default_and_says_so(best_run, tmp_path, capsys):
    out, _, _ = best_run
    assert main(["generate", "--run", out, "--out", str(tmp_path / "a.npz")]) == 0
    assert "using the best checkpoint: iteration 2, Frechet distance 2" in capsys.readouterr().err
    assert main(["generate", "--run", out, "--checkpoint", "best", "--out", str(tmp_path / "b.npz")]) == 0
    capsys.readouterr()
    assert main(["generate", "--run", out, "--checkpoint", "latest", "--out", str(tmp_path / "c.npz")]) == 0
    assert "best" not in capsys.readouterr().err
    default, best, latest = (np.load(tmp_path / f"{name}.npz")["raw"] for name in "abc")
    np.testing.assert_array_equal(default, best)
    assert not np.array_equal(default, latest)
    # An iteration rotated out of checkpoints/ is still found as the best.
    assert main(["generate", "--run", out, "--checkpoint", "2", "--out", str(tmp_path / "d.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "d.npz")["raw"], best)


def test_a_damaged_best_checkpoint_falls_back_to_the_latest(best_run, tmp_path, capsys):
    import shutil

    out = str(tmp_path / "gan")
    shutil.copytree(best_run[0], out)
    with open(os.path.join(out, "best", "ckpt-32.data-00000-of-00001"), "r+b") as handle:
        handle.truncate(100)
    assert main(["generate", "--run", out, "--out", str(tmp_path / "g.png")]) == 0
    assert "skipping the best checkpoint" in capsys.readouterr().err
    assert main(["generate", "--run", out, "--checkpoint", "best", "--out", str(tmp_path / "g.png")]) == 2
    assert "ckpt-32: damaged" in one_line(capsys.readouterr().err)


# --- the averaged generator ------------------------------------------------------------------------


class Recorder(tf.keras.callbacks.Callback):
    """The generator's variables at the start and after every generator update."""

    def __init__(self):
        super().__init__()
        self.after_updates = []

    def on_train_begin(self, logs=None):
        self.initial = [v.numpy() for v in self.model.generator.variables]
        self.initial_average = [v.numpy() for v in self.model.ema_variables]

    def on_train_batch_end(self, batch, logs=None):
        if self.model.iteration >= 1:  # this step ended with a generator update (not the warm-up)
            self.after_updates.append([v.numpy() for v in self.model.generator.variables])


@pytest.fixture(scope="module")
def ema_runs(tmp_path_factory, digits):
    """Fixed-fidelity vanilla GANs (batch-norm statistics that move) with --ema-decay: 4
    iterations in one go, and 2 then resumed to 4."""
    root = tmp_path_factory.mktemp("ema")
    recorder = Recorder()
    whole = new_run(root / "whole", fidelity="fixed", ema_decay=DECAY)
    training.train(whole, RECIPES, digits, 4, verbose=0, print_fn=quiet, callbacks=[recorder])
    split = new_run(root / "split", fidelity="fixed", ema_decay=DECAY)
    training.train(split, RECIPES, digits, 2, verbose=0, print_fn=quiet)
    training.train(RunFolder.open(split.path, RECIPES), RECIPES, digits, 4, resume=True, verbose=0,
                   print_fn=quiet)
    return whole.path, split.path, recorder


def test_the_average_after_a_few_steps_equals_a_hand_computed_one(ema_runs):
    whole, _, recorder = ema_runs
    for start, average in zip(recorder.initial, recorder.initial_average):
        np.testing.assert_array_equal(start, average)  # the average starts at the initial weights
    assert len(recorder.after_updates) == 4
    expected = [np.array(v) for v in recorder.initial]
    for weights in recorder.after_updates:
        expected = [np.float32(DECAY) * e + np.float32(1 - DECAY) * w for e, w in zip(expected, weights)]
    model = RunFolder.open(whole, RECIPES).load_model(RECIPES, expect_partial=False)
    names = [v.path for v in model.generator.variables]
    assert any(name.endswith("moving_mean") for name in names)  # batch-norm statistics included
    moved = 0
    for name, hand, average, raw in zip(names, expected, model.ema_variables, model.generator.variables):
        np.testing.assert_allclose(np.asarray(average), hand, rtol=1e-6, atol=1e-7, err_msg=name)
        moved += not np.allclose(np.asarray(average), np.asarray(raw))
    assert moved >= len(names) // 2  # and it is not simply the raw weights


def test_resuming_a_run_with_an_average_is_bit_identical_to_not_stopping(ema_runs):
    whole, split, recorder = ema_runs
    a = tf.train.load_checkpoint(os.path.join(whole, "checkpoints", "ckpt-34"))
    b = tf.train.load_checkpoint(os.path.join(split, "checkpoints", "ckpt-34"))
    names = sorted(a.get_variable_to_shape_map())
    assert names == sorted(b.get_variable_to_shape_map())
    assert sum(name.startswith("ema_generator/") for name in names) == len(recorder.initial)
    for name in names:
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH":
            np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)


def test_generate_uses_the_average_unless_no_ema(ema_runs, tmp_path, capsys):
    whole, _, _ = ema_runs
    averaged, raw = str(tmp_path / "a.npz"), str(tmp_path / "r.npz")
    assert main(["generate", "--run", whole, "-n", "4", "--out", averaged]) == 0
    assert "using the averaged generator (EMA, decay 0.9)" in capsys.readouterr().err
    assert main(["generate", "--run", whole, "-n", "4", "--no-ema", "--out", raw]) == 0
    assert "averaged" not in capsys.readouterr().err
    model = RunFolder.open(whole, RECIPES).load_model(RECIPES)
    z = latents.sample_latents(4, 100, 0)
    np.testing.assert_allclose(np.load(raw)["raw"], model.generator_outputs(z), atol=1e-6)
    with model.averages.in_generator():
        np.testing.assert_allclose(np.load(averaged)["raw"], model.generator_outputs(z), atol=1e-6)


def test_ema_decay_is_checked_and_kept_on_resume(ema_runs, tmp_path, capsys):
    whole, _, _ = ema_runs
    assert status_of(main, ["train", "--ema-decay", "1", "--out", str(tmp_path / "x")]) == 2
    assert "--ema-decay: expected a decay strictly between 0 and 1" in capsys.readouterr().err
    assert main(["train", "--resume", "--ema-decay", "0.5", "--out", whole]) == 2
    assert "--ema-decay 0.5 contradicts the run's ema_decay 0.9" in one_line(capsys.readouterr().err)
    assert main(["generate", "--run", whole, "--checkpoint", "best", "--out", str(tmp_path / "g.png")]) == 2
    assert "keeps no best checkpoint (train --eval-every N keeps one)" in one_line(capsys.readouterr().err)


def test_the_averaged_generator_normalises_by_its_own_population_statistics(ema_runs):
    """Averaged moving statistics belong to no generator; the averaged weights get their own."""
    from common.averaging import AVERAGED_STATISTICS_SAMPLES, AVERAGED_STATISTICS_SEED

    whole, _, _ = ema_runs
    model = RunFolder.open(whole, RECIPES).load_model(RECIPES)
    raw_statistics = [v.numpy() for v in model.generator.non_trainable_variables]
    z = np.random.default_rng(AVERAGED_STATISTICS_SEED).standard_normal(
        (AVERAGED_STATISTICS_SAMPLES, 100)).astype(np.float32)
    with model.averages.in_generator():
        population = model.generator(z, training=False).numpy()  # the re-estimated statistics
        whole_batch = model.generator_outputs(z, batch_statistics=True).numpy()  # all of z's own
        pairs = [(v.numpy(), np.asarray(average)) for v, average in
                 zip(model.generator.variables, model.ema_variables) if not v.trainable]
    np.testing.assert_allclose(population, whole_batch, atol=2e-4)  # float32 moments of 5000 rows
    assert len(pairs) == 8  # four batch-norm layers' means and variances
    for own, average in pairs:
        assert not np.allclose(own, average)  # not the averaged moving statistics
    for before, after in zip(raw_statistics, model.generator.non_trainable_variables):
        np.testing.assert_array_equal(before, after.numpy())  # the raw generator keeps its own


# --- interpolation and truncation ------------------------------------------------------------------


def test_interpolation_ends_equal_generate_z_of_the_two_vectors(ema_runs, tmp_path):
    whole, _, _ = ema_runs  # fixed fidelity: no batch statistics, an image depends on its z alone
    grid = str(tmp_path / "grid.npz")
    assert main(["generate", "--run", whole, "--interpolate", "4", "-n", "2", "--seed", "3", "--out", grid]) == 0
    z, raw = np.load(grid)["z"], np.load(grid)["raw"]
    assert z.shape == (8, 100)
    ends = latents.sample_latents(4, 100, 3)  # rows 0-1 and 2-3
    np.testing.assert_array_equal(z[[0, 3, 4, 7]], ends)
    # Between the ends: on the arc, the norm moving smoothly from one end's to the other's.
    norms = np.linalg.norm(z.reshape(2, 4, 100), axis=2)
    assert np.all(norms[:, 1:-1] > 0.8 * norms[:, [0, -1]].min(axis=1, keepdims=True))
    np.save(tmp_path / "ends.npy", ends)
    alone = str(tmp_path / "alone.npz")
    assert main(["generate", "--run", whole, "--z", str(tmp_path / "ends.npy"), "--out", alone]) == 0
    np.testing.assert_allclose(raw[[0, 3, 4, 7]], np.load(alone)["raw"], rtol=0, atol=1e-6)
    # The PNG: 2 rows of 4; the GIF: frame k holds the k-th image of every row (here side by side).
    assert main(["generate", "--run", whole, "--interpolate", "4", "-n", "2", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (4 * 28, 2 * 28)
    assert main(["generate", "--run", whole, "--interpolate", "4", "-n", "2", "--out", str(tmp_path / "g.gif")]) == 0
    assert Image.open(tmp_path / "g.gif").size == (2 * 28, 28)


def test_an_animation_keeps_every_frame(tmp_path):
    frames = [np.full((6, 4, 1), 40 * k, np.uint8) for k in range(5)]
    images.save_animation(frames, str(tmp_path / "a.gif"))
    assert Image.open(tmp_path / "a.gif").n_frames == 5


def test_truncation_redraws_components_beyond_psi(ema_runs, tmp_path, capsys):
    whole, _, _ = ema_runs
    out = str(tmp_path / "t.npz")
    assert main(["generate", "--run", whole, "-n", "16", "--truncation", "0.5", "--out", out]) == 0
    z, first = np.load(out)["z"], latents.sample_latents(16, 100, 0)
    assert np.all(np.abs(z) <= 0.5)
    inside = np.abs(first) <= 0.5
    np.testing.assert_array_equal(z[inside], first[inside])  # kept; only the others were redrawn
    assert not np.array_equal(z[~inside], first[~inside])
    np.testing.assert_array_equal(latents.sample_truncated_latents(16, 100, 0, 0.5), z)  # seeded
    capsys.readouterr()
    for argv, message in [(["--truncation", "0"], "--truncation: expected a positive finite number"),
                          (["--truncation", "0.001"], "of at least 0.01"),
                          (["--interpolate", "1"], "--interpolate: expected at least 2 images per row"),
                          (["--z", out, "--truncation", "1"], "--truncation redraws the sampled vectors"),
                          (["--out", str(tmp_path / "x.gif")], "a .gif animates an interpolation")]:
        argv = ["generate", "--run", whole, *argv] + (["--out", str(tmp_path / "x.png")] if "--out" not in argv else [])
        assert status_of(main, argv) == 2
        assert message in one_line(capsys.readouterr().err), argv


# --- --max-minutes for the WGAN ---------------------------------------------------------------------


def test_max_minutes_stops_a_wgan_cleanly_with_a_checkpoint(tmp_path, digits):
    # Resuming after --max-minutes, and its display schedule, are model-independent: see
    # tests/test_run_recovery.py for the vanilla GAN.
    run = new_run(tmp_path / "wgan", model="wgan", steps=3)
    said = []
    model = training.train(run, RECIPES, digits, 3, max_minutes=1e-9, verbose=0, print_fn=said.append)
    assert model.iteration == 1 and re.search(r"stopped after .* minutes at iteration 1 of 3", said[-1])
    assert "Continue with: train --resume" in said[-1]
    assert [c.step for c in run.checkpoints()] == [1]
    assert RunFolder.open(run.path, RECIPES).config.steps_done == 1
    assert os.listdir(run.samples_dir) == ["sample_0_epoch.png"]  # iteration 0, on the schedule
    assert display_iterations(3) == [0, 2]


# --- the configuration --------------------------------------------------------------------------------


def test_checkpoint_choices_and_the_recorded_best_are_checked():
    assert [checkpoint_choice(t) for t in ("best", "latest", "auto", "7")] == ["best", "latest", "auto", 7]
    with pytest.raises(Exception, match="expected best, latest or an iteration number"):
        checkpoint_choice("newest")
    raw = {"model": "gan", "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1], "seed": 1,
           "batch_size": 8, "learning_rate": 0.0005, "steps": 3}
    assert RunConfig.from_dict(raw).best is None and RunConfig.from_dict(raw).ema_decay is None  # old configs
    assert "best" not in RunConfig.from_dict(raw).to_dict()
    good = {"iteration": 2, "step": 32, "frechet_distance": 1.5}
    assert RunConfig.from_dict({**raw, "best": good}).best == good
    for bad in ({"iteration": 2, "step": 32}, {**good, "frechet_distance": float("nan")}, {**good, "step": -1}):
        with pytest.raises(UserError, match="key 'best'"):
            RunConfig.from_dict({**raw, "best": bad})
    with pytest.raises(UserError, match="key 'ema_decay'"):
        RunConfig.from_dict({**raw, "ema_decay": 1.0})
    assert json.loads(json.dumps(RunConfig.from_dict({**raw, "ema_decay": 0.99}).to_dict()))["ema_decay"] == 0.99
