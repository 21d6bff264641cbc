"""A reference the WGAN-GP tests check the model against: the critic loss from scratch."""

import numpy as np
import tensorflow as tf


def direct_critic_loss(model, real, fake, alpha, norm_axes):
    """The original's d_loss computed from scratch: mean C(x) - mean C(G(z)) + 10 * GP."""
    x_hat = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = model.discriminator(x_hat)
    g = tape.gradient(scores, x_hat).numpy()
    slopes = np.sqrt((g ** 2).sum(axis=norm_axes))
    penalty = np.mean((slopes - 1.0) ** 2)
    return (np.mean(model.discriminator(real)) - np.mean(model.discriminator(fake)) + 10.0 * penalty)
