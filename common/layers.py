"""The layers both WGAN-GP models are built from (spec sections 2 and 3).

The MNIST WGAN-GP and the faces WGAN-GP share one vocabulary: dense layers and 5x5
(transposed) convolutions with the original's channel-count Xavier weights
(:class:`~common.initializers.ChannelXavierUniform`) and 0.1 biases, and the leaky ReLU
of slope 0.2. Both model files build from these, so the two networks cannot drift apart
in how a layer is initialised.
"""

import keras

from common import initializers


def xavier_dense(units, name, activation=None):
    """A dense layer as ``matmul + bias_variable`` with ``weight_xavier_init`` weights."""
    return keras.layers.Dense(units, activation=activation, name=name,
                              kernel_initializer=initializers.ChannelXavierUniform(),
                              bias_initializer=initializers.constant_bias())


def xavier_deconv(filters, name, activation="relu"):
    """The original's ``deconvolution_2d``: 5x5, stride 2, SAME, then bias and (by default) ReLU."""
    return keras.layers.Conv2DTranspose(
        filters, 5, strides=2, padding="same", activation=activation, name=name,
        kernel_initializer=initializers.ChannelXavierUniform(),
        bias_initializer=initializers.constant_bias())


def xavier_conv(filters, name, kernel_size=5, strides=2, activation=None):
    """The original's ``convolution_2d`` (SAME padding) followed by its bias."""
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                               activation=activation, name=name,
                               kernel_initializer=initializers.ChannelXavierUniform(),
                               bias_initializer=initializers.constant_bias())


def leaky_relu():
    """The original's ``max(min(0, 0.2x), x)``, which is exactly a leaky ReLU of slope 0.2."""
    return keras.layers.LeakyReLU(negative_slope=0.2)
