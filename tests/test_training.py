"""The training step follows the original's loop: warm-up, shared z, Q1-Q3, exact resume."""

import numpy as np
import pytest
import tensorflow as tf

from common import data
from common.adversarial import build_model
from common.naming import tf1_variables
from common.run import RunFolder
from common.training import train
from genmnist.cli import EMBEDDED
from genmnist.models import GAN, RECIPES, WGAN

BATCH = 8


@pytest.fixture(scope="module")
def digits():
    return data.read_images(EMBEDDED, (28, 28, 1))[:256]


def snapshot(network):
    return {name: np.array(v) for name, v in tf1_variables(network).items()}


def changed(before, after):
    return {name for name in before if not np.array_equal(before[name], after[name])}


def test_the_30_warm_up_steps_train_only_the_discriminator_then_both_change(digits):
    model = build_model(GAN, seed=1)
    stream = data.batches(digits, BATCH, seed=1)
    g0, d0 = snapshot(model.generator), snapshot(model.discriminator)
    model.fit(stream, epochs=1, steps_per_epoch=GAN.pretrain_steps, verbose=0)
    g30, d30 = snapshot(model.generator), snapshot(model.discriminator)
    assert not changed(g0, g30)
    assert changed(d0, d30) == set(d0)
    assert model.g_optimizer.iterations.numpy() == 0
    assert model.d_optimizer.iterations.numpy() == GAN.pretrain_steps
    model.fit(data.batches(digits, BATCH, seed=1, start_step=30), epochs=1, steps_per_epoch=1, verbose=0)
    g31, d31 = snapshot(model.generator), snapshot(model.discriminator)
    assert changed(d30, d31) == set(d0)
    # Everything of G's but batch norm's frozen beta (Q1) and its never-updated statistics (Q2).
    assert changed(g30, g31) == {n for n in g0 if n.startswith("g_")}


def test_the_generator_step_reuses_the_discriminator_steps_z(digits):
    model = build_model(GAN, seed=2)
    model.step_counter.assign(GAN.pretrain_steps)  # past the warm-up
    seen = {}
    d_update, g_update = model.discriminator_update, model.generator_update
    model.discriminator_update = lambda real, z, alpha=None: (seen.setdefault("d", z), d_update(real, z, alpha))[1]
    model.generator_update = lambda z: (seen.setdefault("g", z), g_update(z))[1]
    model.train_step(tf.constant(digits[:BATCH], tf.float32) / 255.0)  # eager: the spies see tensors
    np.testing.assert_array_equal(seen["d"], seen["g"])


def test_wgan_takes_five_critic_steps_per_generator_step_each_with_a_fresh_z(digits):
    model = build_model(WGAN, seed=3)
    zs = []
    d_update, g_update = model.discriminator_update, model.generator_update
    model.discriminator_update = lambda real, z, alpha=None: (zs.append(("d", np.array(z))), d_update(real, z, alpha))[1]
    model.generator_update = lambda z: (zs.append(("g", np.array(z))), g_update(z))[1]
    model.train_step(tf.constant(digits[:BATCH], tf.float32) / 255.0)
    assert [kind for kind, _ in zs] == ["d"] * 5 + ["g"]
    assert len({z.tobytes() for _, z in zs}) == 6
    assert model.d_optimizer.iterations.numpy() == 5 and model.g_optimizer.iterations.numpy() == 1


def test_batch_norm_beta_is_trained_only_in_fixed_fidelity():
    legacy, fixed = build_model(GAN, "legacy"), build_model(GAN, "fixed")
    assert not [v for v in legacy.generator_variables if "beta" in v.path]
    assert len([v for v in fixed.generator_variables if "beta" in v.path]) == 4


def test_legacy_never_moves_batch_norm_statistics_fixed_does(digits):
    for fidelity, moves in (("legacy", False), ("fixed", True)):
        model = build_model(GAN, fidelity, seed=4)
        model.step_counter.assign(GAN.pretrain_steps)
        before = snapshot(model.generator)
        model.fit(data.batches(digits, BATCH, seed=1), epochs=1, steps_per_epoch=2, verbose=0)
        moved = {n for n in changed(before, snapshot(model.generator)) if "moving" in n}
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


def _run(tmp_path, name, digits, steps, resume=False, model="gan"):
    path = str(tmp_path / name)
    config = {"model": model, "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1],
              "seed": 5, "batch_size": BATCH, "learning_rate": 0.0005, "data": None, "steps": steps}
    run = RunFolder.open(path, RECIPES) if resume else RunFolder.create(path, config)
    return train(run, RECIPES, digits, steps, resume=resume, checkpoint_every=0, verbose=0,
                 print_fn=lambda *a: None)


@pytest.mark.parametrize("model", ["gan", "wgan"])
def test_training_n_then_resuming_to_2n_equals_training_2n(tmp_path, digits, model):
    n = 3
    tf.config.experimental.enable_op_determinism()
    straight = _run(tmp_path, "straight", digits, 2 * n, model=model)
    _run(tmp_path, "halves", digits, n, model=model)
    resumed = _run(tmp_path, "halves", digits, 2 * n, resume=True, model=model)
    for network in ("generator", "discriminator"):
        a, b = snapshot(getattr(straight, network)), snapshot(getattr(resumed, network))
        assert not changed(a, b), network
    for opt in ("d_optimizer", "g_optimizer"):
        for va, vb in zip(getattr(straight, opt).variables, getattr(resumed, opt).variables):
            np.testing.assert_array_equal(np.array(va), np.array(vb))
    assert int(resumed.step_counter.numpy()) == RECIPES[model].pretrain_steps + 2 * n


def test_resume_inside_the_warm_up_keeps_the_warm_up(tmp_path, digits):
    _run(tmp_path, "early", digits, 1)
    run = RunFolder.open(str(tmp_path / "early"), RECIPES)
    model = run.load_model(RECIPES)
    assert int(model.step_counter.numpy()) == GAN.pretrain_steps + 1
    assert model.g_optimizer.iterations.numpy() == 1 and model.d_optimizer.iterations.numpy() == 31
