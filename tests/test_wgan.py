"""The MNIST WGAN-GP (spec section 2) as the original trained it, and on the command line.

Shapes, parameter counts and the initialisers are in test_models.py; the penalty formulas
and the interpolation on a toy critic in test_losses.py; resume in test_training.py. Here: the optimisers, the
activations, the penalty as the model wires it (with the real critic, in both
fidelities), the 5:1 schedule over several ``fit`` steps, and ``genmnist --model wgan``.
"""

import hashlib
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from common import data
from common.adversarial import build_model
from genmnist import cli as genmnist_cli
from genmnist.models import WGAN
from tests.wgan_reference import direct_critic_loss

BATCH = 4


@pytest.mark.parametrize("fidelity, norm_axes", [("legacy", (1,)), ("fixed", (1, 2, 3))])
def test_the_critic_loss_is_the_originals_with_the_penalty_of_its_fidelity(fidelity, norm_axes):
    model = build_model(WGAN, fidelity, seed=7)
    rng = np.random.default_rng(7)
    real = tf.constant(rng.uniform(size=(2, 28, 28, 1)), tf.float32)
    fake = model.generator(tf.constant(rng.normal(size=(2, 100)), tf.float32))
    alpha = model.penalty_alpha(real, step=0, stream=0)
    assert alpha.shape == ((2, 28, 28, 1) if fidelity == "legacy" else (2, 1, 1, 1))
    ours, fake_scores = model.discriminator_loss(real, fake, alpha)
    expected = direct_critic_loss(model, real, fake, alpha, norm_axes)
    np.testing.assert_allclose(float(ours), expected, rtol=1e-4)
    # The generator loss has the original's sign: mean C(G(z)), not its negative.
    np.testing.assert_allclose(float(model.generator_loss(fake_scores)),
                               np.mean(model.discriminator(fake)), rtol=1e-5)


def test_optimisers_are_the_originals_adam_1e4_05_09_eps_1e8():
    model = build_model(WGAN)
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert np.isclose(float(optimizer.learning_rate), 1e-4)
        assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.5, 0.9, 1e-8)


def test_critic_uses_leaky_relu_02_and_ends_in_a_raw_score():
    model = build_model(WGAN)
    # Keras' LeakyReLU or the original's max(min(0, a x), x) written out: both carry the slope.
    slopes = [float(layer.negative_slope) for layer in model.discriminator.layers
              if hasattr(layer, "negative_slope")]
    assert slopes == [0.2, 0.2, 0.2]
    assert model.discriminator.get_layer("d4").activation is keras.activations.linear


def test_the_generator_changes_once_per_five_critic_updates_over_several_steps(digits):
    model = build_model(WGAN, seed=8)
    model.run_eagerly = True  # so the spies below see every update as it happens
    seen = []  # (what, generator fingerprint, fake images) in call order
    d_update, g_update = model.discriminator_update, model.generator_update

    def fingerprint():
        digest = hashlib.sha1()
        for variable in model.generator.trainable_variables:
            digest.update(variable.numpy().tobytes())
        return digest.hexdigest()

    def spy_d(real, fake, alpha=None):
        seen.append(("d", fingerprint(), np.array(fake)))
        return d_update(real, fake, alpha)

    def spy_g(fake, tape):
        seen.append(("g", fingerprint(), np.array(fake)))
        return g_update(fake, tape)

    model.discriminator_update, model.generator_update = spy_d, spy_g
    steps = 3
    model.fit(data.batches(digits, BATCH, seed=8, steps=steps), epochs=1, steps_per_epoch=steps, verbose=0)
    assert [what for what, _, _ in seen] == (["d"] * 5 + ["g"]) * steps
    assert model.d_optimizer.iterations.numpy() == 5 * steps
    assert model.g_optimizer.iterations.numpy() == steps
    per_iteration = [seen[6 * i: 6 * i + 6] for i in range(steps)]
    generators = [{g for _, g, _ in block} for block in per_iteration]
    assert all(len(g) == 1 for g in generators), "G must stay fixed through the 5 critic steps"
    assert len({g.pop() for g in generators}) == steps, "G must change once per iteration"
    assert len({fake.tobytes() for _, _, fake in seen}) == 6 * steps  # a fresh z for every update


def test_genmnist_wgan_trains_and_generates_from_the_command_line(tmp_path, capsys):
    out = str(tmp_path / "w1")
    argv = ["train", "--model", "wgan", "--steps", "2", "--batch-size", str(BATCH), "--seed", "3",
            "--checkpoint-every", "0", "--out", out]
    assert genmnist_cli.main(argv) == 0
    assert sorted(os.listdir(os.path.join(out, "samples"))) == ["sample_0_epoch.png", "sample_1_epoch.png"]
    grid = Image.open(os.path.join(out, "samples", "sample_1_epoch.png"))
    assert grid.size == (8 * 28, 8 * 28)  # the original's 8x8 sample grid
    picture = str(tmp_path / "digits.png")
    assert genmnist_cli.main(["generate", "--run", out, "-n", "9", "--out", picture]) == 0
    assert Image.open(picture).size == (3 * 28, 3 * 28)
    assert "wrote 9 images" in capsys.readouterr().out
