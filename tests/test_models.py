"""The MNIST networks match the original's variables: names, shapes, parameter counts, init."""

import numpy as np
import pytest

from common.naming import tf1_variables

# Spec section 1 (vanilla GAN), every variable of the TF1 graph but the optimiser's.
GAN_GENERATOR = {
    "g_w1": (100, 1024), "g_b1": (1024,), "bn1/beta": (1024,),
    "bn1/moving_mean": (1024,), "bn1/moving_variance": (1024,),
    "g_w2": (1024, 3136), "g_b2": (3136,), "bn2/beta": (3136,),
    "bn2/moving_mean": (3136,), "bn2/moving_variance": (3136,),
    "g_w3": (5, 5, 32, 64), "g_b3": (32,), "bn3/beta": (32,),
    "bn3/moving_mean": (32,), "bn3/moving_variance": (32,),
    "g_w4": (5, 5, 16, 32), "g_b4": (16,), "bn4/beta": (16,),
    "bn4/moving_mean": (16,), "bn4/moving_variance": (16,),
    "g_w5": (1, 1, 16, 1), "g_b5": (1,),
}
GAN_DISCRIMINATOR = {
    "discriminator/d_w1": (5, 5, 1, 32), "discriminator/d_b1": (32,),
    "discriminator/d_w2": (5, 5, 32, 64), "discriminator/d_b2": (64,),
    "discriminator/d_w3": (3136, 1024), "discriminator/d_b3": (1024,),
    "discriminator/d_w4": (1024, 1), "discriminator/d_b4": (1,),
}
# Spec section 2 (MNIST WGAN-GP).
WGAN_GENERATOR = {
    "generator/g_w1": (100, 1024), "generator/g_b1": (1024,),
    "generator/g_w2": (1024, 6272), "generator/g_b2": (6272,),
    "generator/g_w3": (5, 5, 64, 128), "generator/g_b3": (64,),
    "generator/g_w4": (5, 5, 32, 64), "generator/g_b4": (32,),
    "generator/g_w5": (1, 1, 32, 1), "generator/g_b5": (1,),
}
WGAN_CRITIC = {
    "discriminator/d_w1": (5, 5, 1, 64), "discriminator/d_b1": (64,),
    "discriminator/d_w2": (5, 5, 64, 128), "discriminator/d_b2": (128,),
    "discriminator/d_w3": (6272, 1024), "discriminator/d_b3": (1024,),
    "discriminator/d_w4": (1024, 1), "discriminator/d_b4": (1,),
}


def shapes(network):
    return {name: tuple(v.shape) for name, v in tf1_variables(network).items()}


@pytest.fixture
def gan(real_models):
    return real_models["gan"]


@pytest.fixture
def wgan(real_models):
    return real_models["wgan"]


def test_gan_variables_are_the_originals_by_name_and_shape(gan):
    assert shapes(gan.generator) == GAN_GENERATOR
    assert shapes(gan.discriminator) == GAN_DISCRIMINATOR


def test_wgan_variables_are_the_originals_by_name_and_shape(wgan):
    assert shapes(wgan.generator) == WGAN_GENERATOR
    assert shapes(wgan.discriminator) == WGAN_CRITIC


@pytest.mark.parametrize("table", [GAN_GENERATOR, GAN_DISCRIMINATOR, WGAN_GENERATOR, WGAN_CRITIC])
def test_parameter_counts_follow_from_the_spec(table, gan, wgan):
    network = {id(GAN_GENERATOR): gan.generator, id(GAN_DISCRIMINATOR): gan.discriminator,
               id(WGAN_GENERATOR): wgan.generator, id(WGAN_CRITIC): wgan.discriminator}[id(table)]
    assert network.count_params() == sum(int(np.prod(s)) for s in table.values())


def test_layer_output_shapes(gan, wgan):
    z = np.zeros((3, 100), np.float32)
    assert gan.generator(z, training=True).shape == (3, 28, 28, 1)
    assert wgan.generator(z).shape == (3, 28, 28, 1)
    x = np.zeros((3, 28, 28, 1), np.float32)
    assert gan.discriminator(x).shape == (3, 1)
    assert wgan.discriminator(x).shape == (3, 1)
    intermediate = {layer.name: layer.output.shape[1:] for layer in gan.discriminator.layers
                    if layer.name in ("d1", "d2")}
    assert intermediate == {"d1": (28, 28, 32), "d2": (14, 14, 64)}


def test_vanilla_gan_output_ranges(gan, wgan):
    z = np.random.default_rng(0).standard_normal((16, 100)).astype(np.float32)
    out = np.asarray(gan.generator(z * 50, training=True))
    assert out.min() >= -1 and out.max() <= 1 and out.min() < 0  # tanh
    out = np.asarray(wgan.generator(z * 50))
    assert out.min() >= 0 and out.max() <= 1  # sigmoid


def test_gan_initialisation_is_truncated_normal_002_for_weights_and_generator_biases(gan):
    variables = tf1_variables(gan.generator)
    w2 = np.asarray(variables["g_w2"])
    assert np.abs(w2).max() <= 0.04 + 1e-7  # cut at two standard deviations
    # A normal truncated at 2 sigma keeps 0.8796 of its standard deviation.
    assert abs(w2.std() - 0.02 * 0.8796) < 0.0005
    assert np.asarray(variables["g_b2"]).std() > 0.01  # biases too, unlike Keras' default
    assert not np.any(np.asarray(variables["bn2/beta"]))
    discriminator = tf1_variables(gan.discriminator)
    assert not np.any(np.asarray(discriminator["discriminator/d_b3"]))


def test_wgan_initialisation_is_channel_count_xavier_with_01_biases(wgan):
    variables = {**tf1_variables(wgan.generator), **tf1_variables(wgan.discriminator)}
    for name, n_in, n_out in [("discriminator/d_w2", 64, 128), ("generator/g_w3", 128, 64),
                              ("discriminator/d_w3", 6272, 1024)]:
        w = np.asarray(variables[name])
        r = np.sqrt(6.0 / (n_in + n_out))  # channel counts only: no 5x5 kernel area
        assert np.abs(w).max() <= r
        assert np.abs(w).max() > 0.97 * r
        assert abs(w.std() - r / np.sqrt(3)) < 0.03 * r  # uniform U(-r, r)
    assert np.all(np.asarray(variables["generator/g_b3"]) == np.float32(0.1))
    assert np.all(np.asarray(variables["discriminator/d_b4"]) == np.float32(0.1))
