"""The two MNIST models of the original, layer for layer.

Every Keras layer is named after the TF1 variables it holds, by one rule (see
:func:`common.naming.tf1_variable_name`): layer ``g3`` holds ``g_w3`` (kernel) and
``g_b3`` (bias); layer ``bn3`` holds ``bn3/beta`` and the moving statistics; the
discriminator's layers sit under the TF1 scope ``discriminator/``.

Vanilla GAN (``GANModel``, spec section 1): dense-BN-ReLU generator ending in a tanh,
truncated-normal(0.02) initialisation of every generator weight and bias; a small
convolutional discriminator with average pooling and a sigmoid output (kept here as a
logit). WGAN-GP (``WGANModel``, spec section 2): the same generator shape without batch
norm and with a sigmoid output, a strided leaky-ReLU critic, channel-count Xavier weights
and 0.1 biases.
"""

import keras

from common import initializers
from common.recipes import Recipe, register_recipes
from common.distribute import synchronized_batch_norm
# Shared with the faces model; imported here by name so both files read alike.
from common.layers import leaky_relu, xavier_conv, xavier_deconv, xavier_dense
from common.naming import build_network
from common.settings import Preset

Z_DIM = 100
IMAGE_SHAPE = (28, 28, 1)


def _batch_norm(name, fidelity):
    # tf.contrib.layers.batch_norm(epsilon=1e-5): a beta, no gamma, decay 0.999. The
    # original never ran the moving-average updates (quirk Q2); momentum 1.0 keeps them at
    # their initial 0 and 1 exactly, as a TF1 checkpoint of the original holds them.
    momentum = 1.0 if fidelity == "legacy" else 0.999
    # Under a multi-replica strategy the moments are those of the global batch, as on one
    # device (see common/distribute.py).
    return keras.layers.BatchNormalization(epsilon=1e-5, center=True, scale=False,
                                           momentum=momentum, name=name,
                                           synchronized=synchronized_batch_norm())


def gan_generator(fidelity="legacy", z_dim=Z_DIM):
    """z [N, z_dim] -> images [N, 28, 28, 1] in [-1, 1] (tanh)."""
    init = initializers.truncated_normal

    def dense(units, name):
        return keras.layers.Dense(units, kernel_initializer=init(), bias_initializer=init(), name=name)

    def deconv(filters, name):
        return keras.layers.Conv2DTranspose(filters, 5, strides=2, padding="same", name=name,
                                            kernel_initializer=init(), bias_initializer=init())

    return build_network("generator", (z_dim,), [
        dense(1024, "g1"), _batch_norm("bn1", fidelity), keras.layers.ReLU(),
        dense(7 * 7 * 64, "g2"), _batch_norm("bn2", fidelity), keras.layers.ReLU(),
        keras.layers.Reshape((7, 7, 64)),
        deconv(32, "g3"), _batch_norm("bn3", fidelity), keras.layers.ReLU(),
        deconv(16, "g4"), _batch_norm("bn4", fidelity), keras.layers.ReLU(),
        keras.layers.Conv2D(1, 1, padding="same", activation="tanh", name="g5",
                            kernel_initializer=init(), bias_initializer=init()),
    ], tf1_scope="")


def gan_discriminator(fidelity="legacy"):
    """images [N, 28, 28, 1] -> logits [N, 1] (the original applied the sigmoid in the loss)."""
    init = initializers.truncated_normal

    def conv(filters, name):
        return keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name=name,
                                   kernel_initializer=init(), bias_initializer="zeros")

    return build_network("discriminator", IMAGE_SHAPE, [
        conv(32, "d1"), keras.layers.AveragePooling2D(2, padding="same"),
        conv(64, "d2"), keras.layers.AveragePooling2D(2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu", name="d3",
                           kernel_initializer=init(), bias_initializer="zeros"),
        keras.layers.Dense(1, name="d4", kernel_initializer=init(), bias_initializer="zeros"),
    ], tf1_scope="discriminator")


def wgan_generator(fidelity="legacy", z_dim=Z_DIM):
    """z [N, z_dim] -> images [N, 28, 28, 1] in [0, 1] (sigmoid); no batch norm."""
    return build_network("generator", (z_dim,), [
        xavier_dense(1024, "g1", "relu"),
        xavier_dense(7 * 7 * 128, "g2", "relu"), keras.layers.Reshape((7, 7, 128)),
        xavier_deconv(64, "g3"), xavier_deconv(32, "g4"),
        xavier_conv(1, "g5", kernel_size=1, strides=1, activation="sigmoid"),
    ], tf1_scope="generator")


def wgan_critic(fidelity="legacy"):
    """images [N, 28, 28, 1] -> scores [N, 1]; strided leaky-ReLU convolutions, no sigmoid."""
    return build_network("discriminator", IMAGE_SHAPE, [
        xavier_conv(64, "d1"), leaky_relu(),
        xavier_conv(128, "d2"), leaky_relu(),
        keras.layers.Flatten(),
        xavier_dense(1024, "d3"), leaky_relu(),
        xavier_dense(1, "d4"),
    ], tf1_scope="discriminator")


GAN = Recipe(
    name="gan", z_dim=Z_DIM, image_shape=IMAGE_SHAPE,
    build_generator=gan_generator, build_discriminator=gan_discriminator,
    loss="minimax", discriminator_steps=1, pretrain_steps=30, share_z=True,
    default_steps=10000, default_batch_size=128, default_learning_rate=0.0005, beta1=0.9,
    symmetric_data_when_fixed=True, sample_prefix="sample", batch_norm=True,
    description="vanilla GAN (GANModel): BN generator, minimax loss, 30 D-only warm-up steps")

WGAN = Recipe(
    name="wgan", z_dim=Z_DIM, image_shape=IMAGE_SHAPE,
    build_generator=wgan_generator, build_discriminator=wgan_critic,
    loss="wasserstein", penalty_weight=10.0, discriminator_steps=5, pretrain_steps=0, share_z=False,
    default_steps=500000, default_batch_size=64, default_learning_rate=1e-4, beta1=0.5, beta2=0.9,
    sample_prefix="sample",
    description="WGAN-GP (WGANModel): 5 critic steps per generator step, gradient penalty 10")

RECIPES = register_recipes({"gan": GAN, "wgan": WGAN})


# A recipe beyond the original's (train --preset best), chosen by measurement on the embedded
# digits: docs/results.md, "A recipe beyond the original's". Fixed fidelity, the hinge loss
# (Lim and Ye 2017), an R1 penalty of gamma 1 on the real images (Mescheder et al. 2018),
# Adam beta1 0.5 (Radford et al. 2016) at the original's learning rate, no warm-up, batch
# 64, an averaged generator, and the best checkpoint by Frechet distance.
BEST = Preset(
    name="best", model="gan",
    settings=(("fidelity", "fixed"), ("batch_size", 64), ("learning_rate", 0.0005), ("steps", 20000),
              ("ema_decay", 0.999), ("eval_every", 1000)),
    recipe_changes=(("loss", "hinge"), ("r1_weight", 1.0), ("pretrain_steps", 0), ("beta1", 0.5)),
    description="the vanilla GAN in fixed fidelity with the hinge loss, an R1 penalty (gamma 1), Adam beta1 0.5, no "
                "warm-up, batch 64, an averaged generator (--ema-decay 0.999) and the best "
                "checkpoint (--eval-every 1000); use it with --max-minutes")

PRESETS = {"best": BEST}
