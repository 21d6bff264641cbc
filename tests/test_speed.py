"""The speed work of GitHub issue 8: what is free changes no number, what is opt-in is named.

Free (the default mode; parity with the original is ``tests/test_parity.py``'s job):
the vanilla GAN's generator step reusing its discriminator step's generator pass is bit
for bit the two-pass step; TF1's fused Adam kernel; each epoch's permutation drawn once;
the loss scalars written to TensorBoard in batches, every iteration still there.

Opt-in (``train --precision / --jit-compile / --fused-discriminator``): each runs, keeps
losses and weights float32, is recorded in config.json and kept on --resume.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from common import adversarial, data, optimizers
from common.adversarial import build_model
from genmnist.models import GAN, WGAN
from tests.helpers import assert_same_state, quiet, run_config

BATCH = 8


def train_from(recipe, digits, start, steps, fidelity="legacy", **options):
    keras.utils.set_random_seed(4)  # the same initial weights for every variant
    model = build_model(recipe, fidelity=fidelity, seed=4, **options)
    model.step_counter.assign(start)
    history = model.fit(data.batches(digits, BATCH, seed=4, start_step=start, steps=steps), epochs=1,
                        steps_per_epoch=steps, verbose=0)
    return model, history.history


def test_reusing_the_generator_pass_is_bit_for_bit_the_two_pass_step(digits, monkeypatch):
    # Across the warm-up's end: steps 28, 29 (D only) and 30, 31 (D, then G on the same z).
    reused, _ = train_from(GAN, digits, 28, 4)
    assert reused.reuses_generator_pass
    monkeypatch.setattr(adversarial.AdversarialModel, "reuses_generator_pass", property(lambda self: False))
    two_pass, _ = train_from(GAN, digits, 28, 4)
    assert_same_state(reused, two_pass)


def test_fixed_fidelity_keeps_both_generator_passes():
    # Its batch norm moves the moving statistics on every pass, as the original's update
    # ops would have twice per iteration.
    assert not build_model(GAN, fidelity="fixed").reuses_generator_pass
    assert not build_model(WGAN).reuses_generator_pass  # a fresh z for G: nothing to reuse


def test_tf1_adam_is_tf1s_fused_kernel_within_rounding_of_keras_adam():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(64, 32)).astype(np.float32)
    gradients = [rng.normal(size=(64, 32)).astype(np.float32) for _ in range(5)]
    results = []
    for optimizer in (optimizers.adam(1e-3, 0.5, 0.9),
                      keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9, epsilon=1e-8)):
        variable = keras.Variable(start)
        optimizer.build([variable])
        step = tf.function(lambda g: optimizer.apply_gradients([(g, variable)]))
        for gradient in gradients:
            step(tf.constant(gradient))
        results.append(variable.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-6)
    assert not np.array_equal(start, results[0])

    optimizer, variable = optimizers.adam(1e-3, 0.5, 0.9), keras.Variable(start)
    optimizer.build([variable])
    graph = tf.function(lambda g: optimizer.apply_gradients([(g, variable)])).get_concrete_function(
        tf.TensorSpec((64, 32), tf.float32)).graph
    assert "ResourceApplyAdam" in {op.type for op in graph.get_operations()}


def test_each_epochs_permutation_is_drawn_once_with_the_same_batches():
    for count, batch_size, start, steps in [(10, 3, 0, 12), (100, 16, 37, 9), (50, 50, 3, 4)]:
        streamed = [np.asarray(b) for b in data.index_batches(count, batch_size, 7, start, steps)]
        one_by_one = [np.asarray(data.batch_indices(tf.constant(s, tf.int64), count, batch_size, 7))
                      for s in range(start, start + steps)]
        assert len(streamed) == steps
        for a, b in zip(streamed, one_by_one):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("recipe", [GAN, WGAN], ids=["gan", "wgan"])
def test_mixed_bfloat16_trains_with_float32_losses_and_weights(digits, recipe):
    start = recipe.pretrain_steps  # one full iteration (the WGAN's penalty: second derivatives in bf16)
    model, history = train_from(recipe, digits, start, 1, precision="mixed_bfloat16")
    assert model.generator.layers[0].compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.generator.weights + model.discriminator.weights)
    assert all(np.isfinite(history[k][-1]) for k in ("d_loss", "g_loss"))
    reference, reference_history = train_from(recipe, digits, start, 1)
    # bfloat16 keeps 8 bits of mantissa (a relative step of 2^-8 = 0.4%): the losses of the
    # first iteration agreed within 0.15% for two seeds of either model; 1% is 2.5 such steps.
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(history[key][-1], reference_history[key][-1], rtol=1e-2, atol=0, err_msg=key)
    images = np.asarray(model.generate(np.zeros((2, recipe.z_dim), np.float32)))
    assert images.dtype == np.float32


@pytest.mark.slow  # by default test_train_records_the_speed_options_and_resume_keeps_them trains with it
def test_one_discriminator_call_gives_the_two_calls_losses_within_rounding(digits):
    _, fused = train_from(WGAN, digits, 0, 1, fused_discriminator=True)
    _, plain = train_from(WGAN, digits, 0, 1)
    for key in ("d_loss", "g_loss"):
        assert abs(fused[key][-1] - plain[key][-1]) <= 1e-4 * abs(plain[key][-1])


JIT_THROUGH_THE_WARM_UP = """
import numpy as np
from tests.test_speed import GAN, train_from
from common import data
from genmnist import EMBEDDED
model, history = train_from(GAN, data.read_images(EMBEDDED, (28, 28, 1)), 29, 2, jit_compile=True)
assert model.jit_compile, "XLA was turned off"
assert int(model.g_optimizer.iterations.numpy()) == 1
assert all(np.isfinite(history[k][-1]) for k in ("d_loss", "g_loss")), history
"""


@pytest.mark.slow
def test_jit_compile_trains_the_gan_through_its_warm_up():
    # In a process of its own: Keras silently compiles without XLA once any test in this
    # one has turned on TensorFlow's op determinism, which cannot be turned off again.
    import subprocess
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    done = subprocess.run([sys.executable, "-c", JIT_THROUGH_THE_WARM_UP], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


def test_train_records_the_speed_options_and_resume_keeps_them(tmp_path, capsys):
    from genmnist import cli

    out = str(tmp_path / "run")
    assert cli.main(["train", "--model", "gan", "--steps", "1", "--batch-size", "8", "--seed", "1",
                     "--precision", "mixed_bfloat16", "--fused-discriminator", "--out", out]) == 0
    config = json.load(open(os.path.join(out, "config.json")))
    assert (config["precision"], config["jit_compile"], config["fused_discriminator"], config["strategy"]) == \
        ("mixed_bfloat16", False, True, "one")
    assert cli.main(["train", "--resume", "--steps", "2", "--precision", "float32", "--out", out]) == 2
    assert "--precision float32 contradicts the run's precision mixed_bfloat16" in capsys.readouterr().err
    assert cli.main(["train", "--resume", "--steps", "2", "--out", out]) == 0
    assert json.load(open(os.path.join(out, "config.json")))["steps_done"] == 2


def test_every_iterations_losses_reach_tensorboard(tmp_path, digits):
    from common.run import RunFolder
    from common.training import train
    from tests.fixtures.tiny_models import TINY_RECIPES

    run = RunFolder.create(str(tmp_path / "run"), run_config("wgan", seed=2, batch_size=4, steps=3))
    train(run, TINY_RECIPES, digits, 3, checkpoint_every=0, verbose=0, print_fn=quiet)
    steps = {}
    for name in os.listdir(run.logs_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(run.logs_dir, name)):
            for value in event.summary.value:
                if value.tag in ("d_loss", "g_loss"):
                    steps.setdefault(value.tag, []).append(event.step)
    assert {tag: sorted(s) for tag, s in steps.items()} == {"d_loss": [0, 1, 2], "g_loss": [0, 1, 2]}
