"""The original's weight initialisers, as Keras initialisers.

The TF1 code used three initialisers, and a port that used Keras' defaults instead
would start every run from a different distribution:

* ``tf.truncated_normal_initializer(stddev=0.02)`` for the vanilla GAN (weights of both
  nets and, unusually, the generator's biases too);
* ``layer.weight_xavier_init``, a uniform Xavier whose fan sizes for convolution kernels
  are the CHANNEL counts only (no kernel area), unlike ``keras.initializers.GlorotUniform``;
* ``layer.bias_variable``, a constant 0.1.
"""

import math

import keras

def truncated_normal(seed=None):
    """TF1's ``truncated_normal_initializer(stddev=0.02)``: N(0, 0.02) cut at two sigma."""
    return keras.initializers.TruncatedNormal(mean=0.0, stddev=0.02, seed=seed)


@keras.saving.register_keras_serializable(package="common")
class ChannelXavierUniform(keras.initializers.Initializer):
    """U(-r, r) with r = sqrt(6 / (n_in + n_out)), the original's ``weight_xavier_init``.

    The original passed the fan sizes by hand. For dense kernels they are the true fan in
    and fan out. For convolution kernels it passed channel counts only, so r is
    ``sqrt(6 / (in_channels + out_channels))``, which is ``kernel_area`` times wider than
    Glorot's range would be in variance terms. For a transposed convolution
    (Keras kernel layout ``(h, w, out, in)``) ``n_in`` is the input channel count, as the
    original's ``deconv`` calls passed it (the sum is the same either way).
    """

    def __init__(self, seed=None):
        self.seed = seed

    def limit(self, shape):
        if len(shape) == 2:
            n_in, n_out = shape
        elif len(shape) == 4:
            # Channels only: (h, w, in, out), or (h, w, out, in) for a transposed kernel.
            n_in, n_out = shape[2], shape[3]
        else:
            raise ValueError(f"ChannelXavierUniform expects a 2-D or 4-D kernel, got shape {tuple(shape)}")
        return math.sqrt(6.0 / (n_in + n_out))

    def __call__(self, shape, dtype=None):
        r = self.limit(shape)
        return keras.random.uniform(shape, minval=-r, maxval=r, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"seed": self.seed}


def constant_bias():
    """The original's ``bias_variable``: every bias starts at 0.1."""
    return keras.initializers.Constant(0.1)
