"""Crashes, interruptions and divergence lose at most the steps since the last checkpoint."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from common import data
from common.adversarial import AdversarialModel
from common.errors import UserError
from common.naming import tf1_variables
from common.run import RunFolder
from common.training import train
from genmnist import EMBEDDED
from genmnist.models import RECIPES
from tests import helpers
from tests.helpers import wait_for

ENV = dict(os.environ, PYTHONPATH=os.getcwd(), PYTHONUNBUFFERED="1")


def start_training(out, *extra):
    return helpers.start_training(out, "--seed", "1", *extra)


def steps_in(out):
    return json.load(open(os.path.join(out, "config.json")))["global_step"]


@pytest.mark.slow  # by default: exact resume from a periodic checkpoint (test_training) and SIGTERM (test_run_recovery)
def test_kill_9_mid_run_then_resume_continues_from_the_last_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    process = start_training(out, "--checkpoint-every", "5")
    wait_for(process, "iteration 20:")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    saved = steps_in(out)
    assert saved >= 30 + 5  # warm-up plus at least one periodic checkpoint
    run = RunFolder.open(out, RECIPES)
    model = run.load_model(RECIPES)
    assert int(model.step_counter.numpy()) == saved  # the checkpoint loads, at its step
    resumed = subprocess.run(
        [sys.executable, "-m", "genmnist", "train", "--resume", "--steps", str(saved - 30 + 2),
         "--out", out], capture_output=True, text=True, env=ENV, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"iteration {saved - 30}" in resumed.stdout
    assert steps_in(out) == saved + 2


@pytest.mark.slow  # by default test_run_recovery's Ctrl-C (twice) and SIGTERM tests cover it
def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    out = str(tmp_path / "run")
    process = start_training(out, "--checkpoint-every", "0")
    wait_for(process, "iteration 10:")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "stopped by SIGINT at iteration" in err and "Traceback" not in err
    assert steps_in(out) > 30 + 10


def test_a_checkpoint_half_written_when_killed_leaves_the_previous_one_loadable(tmp_path):
    digits = data.read_images(EMBEDDED, (28, 28, 1))[:64]
    out = str(tmp_path / "run")
    config = {"model": "gan", "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1],
              "seed": 2, "batch_size": 8, "learning_rate": 0.0005, "data": None, "steps": 1}
    run = RunFolder.create(out, config)
    model = train(run, RECIPES, digits, 1, verbose=0, print_fn=lambda *a: None)
    good = snapshot(model)
    # What a kill -9 in the middle of the next save leaves: data files of a newer
    # checkpoint, partly written, that the index file does not name yet.
    with open(os.path.join(run.checkpoint_dir, "ckpt-99.data-00000-of-00001"), "wb") as handle:
        handle.write(b"\0" * 1000)
    with open(os.path.join(run.checkpoint_dir, "ckpt-99.index"), "wb") as handle:
        handle.write(b"\0" * 10)
    reloaded = RunFolder.open(out, RECIPES).load_model(RECIPES)
    for name, value in snapshot(reloaded).items():
        np.testing.assert_array_equal(value, good[name])


def snapshot(model):
    return {name: np.array(v) for net in (model.generator, model.discriminator)
            for name, v in tf1_variables(net).items()}


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    digits = data.read_images(EMBEDDED, (28, 28, 1))[:64]
    original = AdversarialModel.generator_loss

    def poisoned(self, fake_logits):  # the loss turns NaN from iteration 3 on
        loss = original(self, fake_logits)
        return tf.where(self.step_counter >= 30 + 3, tf.constant(float("nan")), loss)

    monkeypatch.setattr(AdversarialModel, "generator_loss", poisoned)
    out = str(tmp_path / "run")
    config = {"model": "gan", "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1],
              "seed": 2, "batch_size": 8, "learning_rate": 0.0005, "data": None, "steps": 10}
    run = RunFolder.create(out, config)
    with pytest.raises(UserError, match="diverged at iteration 3.*not finite.*last good checkpoint"):
        train(run, RECIPES, digits, 10, checkpoint_every=2, verbose=0, print_fn=lambda *a: None)
    kept = RunFolder.open(out, RECIPES).load_model(RECIPES)
    assert int(kept.step_counter.numpy()) == 30 + 2
    assert all(np.all(np.isfinite(v)) for v in snapshot(kept).values())


@pytest.mark.slow  # by default test_compat's committed runs pin a seed's weights to the bit
def test_same_seed_same_data_gives_identical_weights(tmp_path):
    digits = data.read_images(EMBEDDED, (28, 28, 1))[:64]
    results = []
    for name in ("a", "b"):
        config = {"model": "wgan", "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1],
                  "seed": 9, "batch_size": 8, "learning_rate": 0.0001, "data": None, "steps": 2}
        run = RunFolder.create(str(tmp_path / name), config)
        results.append(snapshot(train(run, RECIPES, digits, 2, verbose=0, print_fn=lambda *a: None)))
    for name in results[0]:
        np.testing.assert_array_equal(results[0][name], results[1][name], err_msg=name)
