"""Adversarial losses as small pure functions of discriminator outputs.

Every function takes logits (raw discriminator or critic outputs) and returns a scalar.
Each docstring names the formula the original wrote and the paper it comes from.
"""

import tensorflow as tf


def minimax_discriminator_loss(real_logits, fake_logits):
    """-mean(log D(x) + log(1 - D(G(z)))), with D = sigmoid(logits).

    The discriminator loss of Goodfellow et al., "Generative Adversarial Nets" (2014),
    eq. 1, as the original's ``GANModel._Loss_discriminator`` wrote it. The original took
    ``tf.log`` of sigmoid outputs, which is -inf once a sigmoid saturates (quirk Q8);
    ``log sigmoid(l) = -softplus(-l)`` and ``log(1 - sigmoid(l)) = -softplus(l)`` give the
    same numbers wherever the original's are finite, and stay finite everywhere else.
    The original summed the two terms per sample before one mean; with equal batch sizes
    that is the same as summing the two means.
    """
    real_logits = tf.convert_to_tensor(real_logits)
    fake_logits = tf.convert_to_tensor(fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-mean(log D(G(z))), the "non-saturating" generator loss of Goodfellow et al. (2014), sec. 3.

    As the original's ``GANModel._Loss_generator``, computed stably from logits (Q8).
    """
    return tf.reduce_mean(tf.nn.softplus(-tf.convert_to_tensor(fake_logits)))


def wasserstein_critic_loss(real_scores, fake_scores):
    """mean(C(x)) - mean(C(G(z))): the original's critic loss, before the penalty.

    Arjovsky et al., "Wasserstein GAN" (2017), with the sign flipped against the paper
    (which minimises mean(C(G(z))) - mean(C(x))). The original's generator loss is
    flipped as well (see :func:`wasserstein_generator_loss`), so the two stay a
    consistent game in which the critic scores real images LOW. The port keeps the sign:
    it changes no image, only what the loss curves and the critic's outputs mean.
    """
    return tf.reduce_mean(real_scores) - tf.reduce_mean(fake_scores)


def wasserstein_generator_loss(fake_scores):
    """mean(C(G(z))): the original's generator loss (sign convention as the critic's)."""
    return tf.reduce_mean(fake_scores)


def hinge_discriminator_loss(real_logits, fake_logits):
    """mean(max(0, 1 - D(x))) + mean(max(0, 1 + D(G(z)))): the hinge loss.

    Lim and Ye, "Geometric GAN" (2017), eq. 9, as Miyato et al. used it in "Spectral
    Normalization for Generative Adversarial Networks" (2018). Not the original's: the
    ``--preset best`` recipe uses it, because it trained faster than the minimax loss on
    the embedded digits (docs/results.md, "A recipe beyond the original's").
    """
    real_logits = tf.convert_to_tensor(real_logits)
    fake_logits = tf.convert_to_tensor(fake_logits)
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """-mean(D(G(z))): the generator's side of the hinge loss (Lim and Ye 2017, eq. 10)."""
    return -tf.reduce_mean(tf.convert_to_tensor(fake_logits))


def r1_penalty(real_gradients):
    """mean(||dD(x)/dx||^2) over real images x: the R1 regulariser.

    Mescheder et al., "Which Training Methods for GANs do actually Converge?" (2018),
    eq. 9: penalising the discriminator's slope on the real data alone makes the game
    converge where plain GAN training circles. ``real_gradients`` are D's gradients with
    respect to its real inputs, [B, H, W, C]; the recipe weighs the penalty by gamma / 2.
    """
    squared = tf.square(tf.convert_to_tensor(real_gradients))
    return tf.reduce_mean(tf.reduce_sum(squared, axis=list(range(1, len(squared.shape)))))


def minimax_discriminator_loss_as_written(real_logits, fake_logits):
    """-mean(log(sigmoid(real)) + log(1 - sigmoid(fake))), op for op as the original wrote it.

    Quirk Q8 kept: where the float32 sigmoid of a fake's logit rounds to 1 (logits above
    about 17), ``log(1 - D)`` is -inf; where a real image's rounds to 1, the gradient
    through it is exactly 0, where :func:`minimax_discriminator_loss` gives a tiny one
    that Adam turns into a full-size step. Legacy fidelity trains with this, so its runs
    end as the original's do, divergences included; ``--stable-losses`` opts out.
    """
    real = tf.sigmoid(tf.cast(real_logits, tf.float32))
    fake = tf.sigmoid(tf.cast(fake_logits, tf.float32))
    return -tf.reduce_mean(tf.math.log(real) + tf.math.log(1.0 - fake))


def non_saturating_generator_loss_as_written(fake_logits):
    """-mean(log(sigmoid(fake))), as the original's ``_Loss_generator`` (quirk Q8 kept)."""
    return -tf.reduce_mean(tf.math.log(tf.sigmoid(tf.cast(fake_logits, tf.float32))))


# A recipe names its loss; these are the (discriminator, generator) functions of each name.
ADVERSARIAL_LOSSES = {
    "minimax": (minimax_discriminator_loss, non_saturating_generator_loss),
    "wasserstein": (wasserstein_critic_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}

# The losses the original computed in a way that overflows (Q8), as it computed them.
AS_WRITTEN = {
    "minimax": (minimax_discriminator_loss_as_written, non_saturating_generator_loss_as_written),
}


def adversarial_losses(name, stable=True):
    """The (discriminator, generator) loss functions of loss ``name``.

    ``stable=False`` gives the original's own computation where it had an unstable one
    (quirk Q8); the other losses have only one form.
    """
    if not stable and name in AS_WRITTEN:
        return AS_WRITTEN[name]
    return ADVERSARIAL_LOSSES[name]


def interpolate(real, fake, alpha):
    """x_hat = x + alpha * (G(z) - x), the random points the penalty is taken at."""
    return real + alpha * (fake - real)


def gradient_penalty(critic, real, fake, alpha, norm_axes):
    """mean((||dC(x_hat)/dx_hat|| - 1)^2): the WGAN-GP penalty.

    Gulrajani et al., "Improved Training of Wasserstein GANs" (2017), eq. 3. The gradient
    is that of the critic's outputs summed over the batch (as ``tf.gradients`` took it),
    which for a per-sample critic equals each sample's own gradient.

    ``alpha`` is broadcast against the images: shape ``[B, 1, 1, 1]`` gives the paper's
    one interpolation weight per sample; the original drew one per PIXEL (shape of x,
    quirk Q4). ``norm_axes`` are the axes the slope norm is taken over: ``(1, 2, 3)`` in
    the paper; the original's ``reduction_indices=[1]`` took it over the image height
    only, leaving a ``[B, W, C]`` grid of "slopes" that the mean then averages.
    """
    x_hat = interpolate(real, fake, alpha)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    gradients = tape.gradient(scores, x_hat)
    slopes = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=norm_axes))
    return tf.reduce_mean(tf.square(slopes - 1.0))
