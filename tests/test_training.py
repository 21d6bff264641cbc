"""The training step follows the original's loop: warm-up, shared z, Q1-Q3; resume is exact.

Exact resume is checked from every kind of checkpoint a run leaves: the one written at
the end, a periodic one (a crash right after it), a Ctrl-C one (a real SIGINT, in a
subprocess) and one inside the vanilla GAN's 30-step warm-up. Each resumed run must hold
the bits of a run trained straight through. These runs use the real recipes with narrow
layers (``tests/fixtures/tiny_models.py``): resuming is the same code for any width, and
tracing the full-size step for each run would cost minutes. Run folders written by
earlier versions are tests/test_compat.py's.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from common import data, optimizers
from common.adversarial import build_model
from common.run import RunFolder
from common.training import train
from genmnist.models import GAN, RECIPES, WGAN
from tests.fixtures.tiny_models import TINY_RECIPES
from tests.helpers import assert_same_state, changed, network_state, quiet, run_config

BATCH = 8
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_30_warm_up_steps_train_only_the_discriminator_then_both_change(digits):
    model = build_model(GAN, seed=1)
    stream = data.batches(digits, BATCH, seed=1)
    g0, d0 = network_state(model.generator), network_state(model.discriminator)
    model.fit(stream, epochs=1, steps_per_epoch=GAN.pretrain_steps, verbose=0)
    g30, d30 = network_state(model.generator), network_state(model.discriminator)
    assert not changed(g0, g30)
    assert changed(d0, d30) == set(d0)
    assert model.g_optimizer.iterations.numpy() == 0
    assert model.d_optimizer.iterations.numpy() == GAN.pretrain_steps
    model.fit(data.batches(digits, BATCH, seed=1, start_step=30), epochs=1, steps_per_epoch=1, verbose=0)
    g31, d31 = network_state(model.generator), network_state(model.discriminator)
    assert changed(d30, d31) == set(d0)
    # Everything of G's but batch norm's frozen beta (Q1) and its never-updated statistics (Q2).
    assert changed(g30, g31) == {n for n in g0 if n.startswith("g_")}


def test_one_fit_across_the_warm_ups_end_updates_the_generator_from_step_30_on(digits):
    model = build_model(TINY_RECIPES["gan"], seed=1)
    model.step_counter.assign(GAN.pretrain_steps - 2)
    model.fit(data.batches(digits, BATCH, seed=1, start_step=28), epochs=1, steps_per_epoch=4, verbose=0)
    assert model.d_optimizer.iterations.numpy() == 4 and model.g_optimizer.iterations.numpy() == 2


def test_a_model_with_a_warm_up_refuses_several_steps_per_call():
    model = build_model(TINY_RECIPES["gan"])
    model.compile(d_optimizer=optimizers.adam(1e-3, 0.5), g_optimizer=optimizers.adam(1e-3, 0.5),
                  steps_per_execution=2)
    with pytest.raises(ValueError, match="one step per call"):
        model.make_train_function()


def spy_on_the_step(model):
    """Record, in call order, the z of every generator pass and the fakes each update gets."""
    seen = []
    fake_images, d_update, g_update = model.fake_images, model.discriminator_update, model.generator_update
    model.fake_images = lambda z: (seen.append(("G(z)", np.array(z))), fake_images(z))[1]
    model.discriminator_update = lambda real, fake, alpha=None: (
        seen.append(("d", np.array(fake))), d_update(real, fake, alpha))[1]
    model.generator_update = lambda fake, tape: (seen.append(("g", np.array(fake))), g_update(fake, tape))[1]
    return seen


@pytest.mark.parametrize("fidelity", ["legacy", "fixed"])
def test_the_generator_step_reuses_the_discriminator_steps_z(digits, fidelity):
    model = build_model(GAN, fidelity, seed=2)
    model.step_counter.assign(GAN.pretrain_steps)  # past the warm-up
    seen = spy_on_the_step(model)
    model.train_step(tf.constant(digits[:BATCH], tf.float32) / 255.0)  # eager: the spies see tensors
    kinds = [kind for kind, _ in seen]
    # Legacy: one G pass serves both updates; fixed: G runs again (its batch norm statistics move).
    assert kinds == (["G(z)", "d", "g"] if fidelity == "legacy" else ["G(z)", "d", "G(z)", "g"])
    zs = [value for kind, value in seen if kind == "G(z)"]
    assert all(np.array_equal(z, zs[0]) for z in zs)
    np.testing.assert_array_equal(seen[kinds.index("d")][1], seen[kinds.index("g")][1])


def test_wgan_takes_five_critic_steps_per_generator_step_each_with_a_fresh_z(digits):
    model = build_model(WGAN, seed=3)
    seen = spy_on_the_step(model)
    model.train_step(tf.constant(digits[:BATCH], tf.float32) / 255.0)
    assert [kind for kind, _ in seen] == ["G(z)", "d"] * 5 + ["G(z)", "g"]
    assert len({z.tobytes() for kind, z in seen if kind == "G(z)"}) == 6
    assert model.d_optimizer.iterations.numpy() == 5 and model.g_optimizer.iterations.numpy() == 1


# The latent vectors and penalty weights seed 5 draws, as this port drew them at commit
# 053a994: every z and alpha is a stateless function of (seed, step, stream), so a change
# in how they are drawn changes every run, resumed or not.
GOLDEN_DRAWS = [
    # (what, step, stream, row, first four values)
    ("z", 0, 0, 0, [-2.0553784370422363, 1.158187747001648, 0.19160862267017365, -0.1297789067029953]),
    ("z", 7, 5, 1, [1.1165341138839722, 1.2711215019226074, -0.03927144780755043, 1.1142100095748901]),
    ("alpha", 3, 2, 0, [0.0811922550201416, 0.13014042377471924, 0.21895527839660645, 0.27161872386932373]),
]


@pytest.mark.parametrize("what, step, stream, row, first", GOLDEN_DRAWS)
def test_seed_5_draws_the_latent_vectors_and_penalty_weights_it_always_drew(what, step, stream, row, first):
    model = build_model(TINY_RECIPES["wgan"], seed=5)  # draws depend on the seed and z_dim only
    if what == "z":
        values = np.asarray(model.latent(4, step, stream))[row, :4]
    else:
        values = np.asarray(model.penalty_alpha(tf.zeros((2, 28, 28, 1)), step, stream))[row, 0, :4, 0]
    assert values.tolist() == first


def test_batch_norm_beta_is_trained_only_in_fixed_fidelity():
    legacy, fixed = build_model(GAN, "legacy"), build_model(GAN, "fixed")
    assert not [v for v in legacy.generator_variables if "beta" in v.path]
    assert len([v for v in fixed.generator_variables if "beta" in v.path]) == 4


def test_legacy_never_moves_batch_norm_statistics_fixed_does(digits):
    for fidelity, moves in (("legacy", False), ("fixed", True)):
        model = build_model(TINY_RECIPES["gan"], fidelity, seed=4)  # genmnist's batch norm, narrow
        model.step_counter.assign(GAN.pretrain_steps)
        before = network_state(model.generator)
        model.fit(data.batches(digits, BATCH, seed=1), epochs=1, steps_per_epoch=2, verbose=0)
        moved = {n for n in changed(before, network_state(model.generator)) if "moving" in n}
        assert bool(moved) == moves, fidelity


def test_fixed_fidelity_trains_the_vanilla_gan_on_symmetric_data():
    legacy, fixed = build_model(GAN, "legacy"), build_model(GAN, "fixed")
    x = tf.constant([[0.0], [1.0]])
    np.testing.assert_array_equal(legacy.to_model_range(x), [[0.0], [1.0]])
    np.testing.assert_array_equal(fixed.to_model_range(x), [[-1.0], [1.0]])
    np.testing.assert_array_equal(GAN.generator_images(np.float32(-1.0), "fixed"), 0.0)
    np.testing.assert_array_equal(GAN.generator_images(np.float32(-1.0), "legacy"), -1.0)


def test_wgan_penalty_alpha_is_per_pixel_in_legacy_and_per_sample_in_fixed():
    real = tf.zeros((4, 28, 28, 1))
    assert build_model(WGAN, "legacy").penalty_alpha(real, 0, 0).shape == (4, 28, 28, 1)
    assert build_model(WGAN, "fixed").penalty_alpha(real, 0, 0).shape == (4, 1, 1, 1)


# --- exact resume ------------------------------------------------------------------------------


def _train(path, digits, steps, resume=False, model="gan", checkpoint_every=0, callbacks=()):
    """``train`` a narrow-recipe run (seed 5, batch 8, legacy) to ``steps`` iterations."""
    run = RunFolder.open(path, TINY_RECIPES) if resume else RunFolder.create(path, run_config(model, steps=steps))
    return train(run, TINY_RECIPES, digits, steps, resume=resume, checkpoint_every=checkpoint_every, verbose=0,
                 print_fn=quiet, callbacks=callbacks)


def newest(path):
    return os.path.basename(tf.train.latest_checkpoint(os.path.join(path, "checkpoints")))


class At(keras.callbacks.Callback):
    """Calls ``action(model)`` after the training step that brings the step counter to ``step``."""

    def __init__(self, step, action):
        super().__init__()
        self.step, self.action = step, action

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step_counter.numpy()) == self.step:
            self.action(self.model)


STEPS = 3  # iterations after the 30 warm-up steps: the step counter ends at 33


@pytest.fixture(scope="module")
def straight(tmp_path_factory, digits):
    """The narrow vanilla GAN (seed 5, batch 8) trained to 3 iterations in one go."""
    tf.config.experimental.enable_op_determinism()
    return _train(str(tmp_path_factory.mktemp("straight") / "run"), digits, STEPS)


@pytest.mark.parametrize("model", ["gan", pytest.param("wgan", marks=pytest.mark.slow)])
def test_training_n_then_resuming_to_2n_equals_training_2n(tmp_path, digits, model, deterministic_ops):
    n = 2
    straight_run = _train(str(tmp_path / "straight"), digits, 2 * n, model=model)
    _train(str(tmp_path / "halves"), digits, n, model=model)
    assert newest(str(tmp_path / "halves")) == f"ckpt-{RECIPES[model].pretrain_steps + n}"  # the end-of-run one
    resumed = _train(str(tmp_path / "halves"), digits, 2 * n, resume=True, model=model)
    assert int(resumed.step_counter.numpy()) == RECIPES[model].pretrain_steps + 2 * n
    assert_same_state(straight_run, resumed)


def test_resuming_from_a_periodic_checkpoint_equals_training_straight_through(tmp_path, digits, straight):
    run = str(tmp_path / "run")

    def crash(model):  # after the periodic checkpoint of iteration 2 was written
        raise RuntimeError("the machine went down")

    with pytest.raises(RuntimeError, match="went down"):
        _train(run, digits, STEPS, checkpoint_every=2, callbacks=[At(32, crash)])
    assert newest(run) == "ckpt-32"
    assert json.load(open(os.path.join(run, "config.json")))["steps_done"] == 2
    assert_same_state(straight, _train(run, digits, STEPS, resume=True))


def test_resuming_from_a_ctrl_c_checkpoint_equals_training_straight_through(tmp_path, digits, straight):
    """SIGINT, sent by the training process to itself once the step counter reaches 31."""
    run = str(tmp_path / "run")
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "interrupt_training.py"), "31", "train", "--model", "gan",
         "--steps", str(STEPS), "--batch-size", str(BATCH), "--seed", "5", "--checkpoint-every", "0", "--out", run],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 130, done.stderr[-3000:]
    assert "stopped by SIGINT at iteration" in done.stderr
    stopped_at = json.load(open(os.path.join(run, "config.json")))["global_step"]
    assert 31 <= stopped_at < 30 + STEPS and newest(run) == f"ckpt-{stopped_at}"
    assert_same_state(straight, _train(run, digits, STEPS, resume=True))


def test_resuming_inside_the_warm_up_equals_training_straight_through(tmp_path, digits, straight):
    run = str(tmp_path / "run")
    stopped = _train(run, digits, STEPS, callbacks=[At(10, lambda model: setattr(model, "stop_training", True))])
    assert int(stopped.step_counter.numpy()) == 10 and newest(run) == "ckpt-10"
    reloaded = RunFolder.open(run, TINY_RECIPES).load_model(TINY_RECIPES)
    assert (reloaded.d_optimizer.iterations.numpy(), reloaded.g_optimizer.iterations.numpy()) == (10, 0)
    resumed = _train(run, digits, STEPS, resume=True)
    assert resumed.g_optimizer.iterations.numpy() == STEPS  # the warm-up went on, D only, to step 30
    assert_same_state(straight, resumed)
