"""The layers both WGAN-GP models are built from (spec sections 2 and 3).

The MNIST WGAN-GP and the faces WGAN-GP share one vocabulary: dense layers and 5x5
(transposed) convolutions with the original's channel-count Xavier weights
(:class:`~common.initializers.ChannelXavierUniform`) and 0.1 biases, and the leaky ReLU
of slope 0.2. Both model files build from these, so the two networks cannot drift apart
in how a layer is initialised.
"""

import keras
import tensorflow as tf

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


@keras.saving.register_keras_serializable(package="gan_port")
class MaxMinLeakyReLU(keras.layers.Layer):
    """The original's leaky ReLU as it wrote it: ``max(min(0, a * x), x)``, slope ``a``.

    The same values as ``keras.layers.LeakyReLU`` (and the same gradients, through the
    original's own Maximum/Minimum ops). Why not Keras' layer: the WGAN-GP critics
    differentiate their gradient (the penalty), and Grappler's remapper, fusing
    convolution + bias + ``LeakyRelu``, removes the bias node that the second-order
    ``LeakyReluGrad`` still reads, fails, and leaves the whole training step unfused
    ("remapper failed: ... fanout ... LeakyReluGrad exist for missing node ... BiasAdd"):
    about 10% of the MNIST WGAN's speed on a 2-core CPU (GitHub issue 8).
    """

    def __init__(self, negative_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        zero = tf.zeros([], inputs.dtype)  # in the compute dtype: bfloat16 under mixed precision
        return tf.maximum(tf.minimum(zero, self.negative_slope * inputs), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


def leaky_relu():
    """The original's ``max(min(0, 0.2x), x)``, which is exactly a leaky ReLU of slope 0.2."""
    return MaxMinLeakyReLU(negative_slope=0.2)
