"""Batch norm's population statistics, estimated from generated samples.

A generator's batch-norm layers need population statistics to generate one image at a
time. A run whose moving statistics mean nothing (the original never updated them, quirk
Q2) or belong to other weights (the averaged generator of ``--ema-decay``: an average of
moving statistics is not the statistics of the averaged weights) gets them estimated
here instead: many seeded z vectors go through the generator and each layer gets the
exact mean and variance of its input over all of them, layer by layer. This is what
batch statistics of a very large batch converge to; BigGAN (Brock et al. 2019, sec. 3.1)
calls them "standing statistics".
"""

import keras
import numpy as np
import tensorflow as tf

REESTIMATE_CHUNK = 2_000


def batch_norm_layers(network):
    return [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]


def population_moments(probe, z, chunk_size=REESTIMATE_CHUNK):
    """Mean and (biased) variance per channel of ``probe(z)`` over all of ``z``.

    Each chunk's moments come from TensorFlow; they are pooled in float64 by Chan's
    parallel formula, so tens of thousands of samples lose no precision to a float32 sum. The
    variance divides by the count, as batch norm's training mode does.
    """
    # Eager calls: a few large chunks, and no tf.function to retrace for every probe.
    def moments(z_chunk):
        x = probe(z_chunk, training=False)
        mean, variance = tf.nn.moments(x, axes=list(range(len(x.shape) - 1)))
        return mean, variance, tf.size(x) // tf.shape(x)[-1]

    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, len(z), chunk_size):
        chunk_mean, chunk_var, chunk_count = (np.asarray(t, np.float64) for t in
                                              moments(tf.constant(z[start:start + chunk_size])))
        chunk_count = int(chunk_count)
        delta = chunk_mean - mean
        total = count + chunk_count
        mean = mean + delta * (chunk_count / total)
        m2 = m2 + chunk_var * chunk_count + delta ** 2 * (count * chunk_count / total)
        count = total
    return mean, m2 / count


def batch_norm_probe(generator, layer):
    """A model from the generator's z to the input of its batch-norm ``layer`` (shared weights)."""
    return keras.Model(generator.inputs[0], layer.input)


def reestimate_batch_norm(generator, z, chunk_size=REESTIMATE_CHUNK):
    """Set every batch-norm layer's moving statistics to its input's moments over ``z``.

    Layer by layer, in order: the input of layer k is computed with layers 1..k-1 already
    normalising by their new statistics. Changes ``generator`` in place; returns
    ``{layer name: (mean, variance)}``.
    """
    statistics = {}
    for layer in batch_norm_layers(generator):
        probe = batch_norm_probe(generator, layer)
        mean, variance = population_moments(probe, z, chunk_size)
        layer.moving_mean.assign(mean.astype(np.float32))
        layer.moving_variance.assign(variance.astype(np.float32))
        statistics[layer.name] = (mean, variance)
    return statistics
