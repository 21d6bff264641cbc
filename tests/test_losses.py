"""The losses equal the original's formulas, and stay finite where the original's were not."""

import numpy as np
import tensorflow as tf

from common import losses


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_minimax_discriminator_loss_equals_the_originals_log_formula():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(0, 3, (64, 1)), rng.normal(0, 3, (64, 1))
    naive = -np.mean(np.log(sigmoid(real)) + np.log(1 - sigmoid(fake)))
    ours = losses.minimax_discriminator_loss(real.astype(np.float32), fake.astype(np.float32))
    np.testing.assert_allclose(float(ours), naive, rtol=1e-5)


def test_non_saturating_generator_loss_equals_the_originals_log_formula():
    fake = np.random.default_rng(1).normal(0, 3, (64, 1))
    naive = -np.mean(np.log(sigmoid(fake)))
    np.testing.assert_allclose(float(losses.non_saturating_generator_loss(fake.astype(np.float32))),
                               naive, rtol=1e-5)


def test_losses_stay_finite_at_saturated_logits():
    saturated = np.array([[-200.0], [200.0]], np.float32)
    with np.errstate(divide="ignore"):
        assert not np.isfinite(-np.mean(np.log(sigmoid(np.float32(-200.0)))))  # the original's
    d = losses.minimax_discriminator_loss(saturated, saturated)
    g = losses.non_saturating_generator_loss(saturated)
    assert np.isfinite(float(d)) and np.isfinite(float(g))
    np.testing.assert_allclose(float(g), 100.0, rtol=1e-6)  # softplus(200) / 2


def test_the_losses_as_written_are_the_originals_log_of_sigmoid_in_float32():
    rng = np.random.default_rng(2)
    real, fake = (rng.normal(0, 3, (64, 1)).astype(np.float32) for _ in range(2))
    s_real, s_fake = (1 / (1 + np.exp(-x, dtype=np.float32)) for x in (real, fake))
    np.testing.assert_allclose(float(losses.minimax_discriminator_loss_as_written(real, fake)),
                               -np.mean(np.log(s_real) + np.log(np.float32(1) - s_fake)), rtol=1e-5)
    np.testing.assert_allclose(float(losses.non_saturating_generator_loss_as_written(fake)),
                               -np.mean(np.log(s_fake)), rtol=1e-5)


def test_the_losses_as_written_overflow_and_stall_where_the_original_did():
    # Q8: a fake scored 20 has sigmoid 1.0 in float32, so log(1 - D) = -inf; a real image
    # scored 20 has a gradient of exactly 0 through the rounded sigmoid, not exp(-20).
    assert np.isinf(float(losses.minimax_discriminator_loss_as_written(np.zeros((1, 1), np.float32),
                                                                       np.full((1, 1), 20.0, np.float32))))
    assert np.isinf(float(losses.non_saturating_generator_loss_as_written(np.full((1, 1), -120.0, np.float32))))
    real = tf.Variable(np.full((1, 1), 20.0, np.float32))
    fake = np.full((1, 1), -20.0, np.float32)
    gradients = []
    for loss in (losses.minimax_discriminator_loss_as_written, losses.minimax_discriminator_loss):
        with tf.GradientTape() as tape:
            value = loss(real, fake)
        gradients.append(float(tape.gradient(value, real)[0, 0]))
    assert gradients[0] == 0.0
    np.testing.assert_allclose(gradients[1], -np.exp(-20.0), rtol=1e-4)


def test_only_the_minimax_loss_has_a_form_as_written():
    assert losses.adversarial_losses("minimax", stable=False) == (
        losses.minimax_discriminator_loss_as_written, losses.non_saturating_generator_loss_as_written)
    assert losses.adversarial_losses("minimax") == losses.ADVERSARIAL_LOSSES["minimax"]
    for name in ("wasserstein", "hinge"):
        assert losses.adversarial_losses(name, stable=False) == losses.ADVERSARIAL_LOSSES[name]


def test_wasserstein_losses_keep_the_originals_sign():
    real, fake = np.array([1.0, 3.0], np.float32), np.array([-2.0, 0.0], np.float32)
    assert float(losses.wasserstein_critic_loss(real, fake)) == 2.0 - (-1.0)
    assert float(losses.wasserstein_generator_loss(fake)) == -1.0


def test_the_penalty_points_are_x_plus_alpha_times_g_minus_x():
    rng = np.random.default_rng(5)
    real, fake = rng.uniform(size=(2, 4, 4, 1)), rng.uniform(size=(2, 4, 4, 1))
    for alpha in (rng.uniform(size=(2, 4, 4, 1)), rng.uniform(size=(2, 1, 1, 1))):  # per pixel, per sample
        ours = losses.interpolate(*(tf.constant(a, tf.float32) for a in (real, fake, alpha)))
        np.testing.assert_allclose(ours, real + alpha * (fake - real), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(losses.interpolate(real, fake, 0.0), real)  # alpha 0: the real image


def _tiny_critic():
    kernel = tf.constant(np.random.default_rng(2).normal(size=(2 * 3 * 1, 1)), tf.float32)

    def critic(x):
        flat = tf.reshape(x, [tf.shape(x)[0], -1])
        return tf.matmul(tf.square(flat), kernel)  # non-linear, so the slope depends on x_hat
    return critic


def test_gradient_penalty_as_written_in_the_original_per_pixel_alpha_height_norm():
    rng = np.random.default_rng(3)
    real = tf.constant(rng.uniform(size=(4, 2, 3, 1)), tf.float32)
    fake = tf.constant(rng.uniform(size=(4, 2, 3, 1)), tf.float32)
    alpha = tf.constant(rng.uniform(size=(4, 2, 3, 1)), tf.float32)  # one per pixel
    critic = _tiny_critic()
    x_hat = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = critic(x_hat)
    g = tape.gradient(out, x_hat).numpy()
    slopes = np.sqrt((g ** 2).sum(axis=1))  # axis 1 only: image height
    assert slopes.shape == (4, 3, 1)
    expected = np.mean((slopes - 1) ** 2)
    ours = losses.gradient_penalty(critic, real, fake, alpha, norm_axes=(1,))
    np.testing.assert_allclose(float(ours), expected, rtol=1e-5)


def test_gradient_penalty_of_the_paper_per_sample_alpha_full_norm():
    rng = np.random.default_rng(4)
    real = tf.constant(rng.uniform(size=(4, 2, 3, 1)), tf.float32)
    fake = tf.constant(rng.uniform(size=(4, 2, 3, 1)), tf.float32)
    alpha = tf.constant(rng.uniform(size=(4, 1, 1, 1)), tf.float32)
    critic = _tiny_critic()
    x_hat = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = critic(x_hat)
    g = tape.gradient(out, x_hat).numpy()
    expected = np.mean((np.sqrt((g ** 2).sum(axis=(1, 2, 3))) - 1) ** 2)
    ours = losses.gradient_penalty(critic, real, fake, alpha, norm_axes=(1, 2, 3))
    np.testing.assert_allclose(float(ours), expected, rtol=1e-5)


def test_hinge_losses_equal_their_formulas_in_numpy():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(0, 2, (64, 1)), rng.normal(0, 2, (64, 1))
    expected_d = np.mean(np.maximum(0.0, 1.0 - real)) + np.mean(np.maximum(0.0, 1.0 + fake))
    np.testing.assert_allclose(float(losses.hinge_discriminator_loss(real.astype(np.float32), fake.astype(np.float32))),
                               expected_d, rtol=1e-5)
    np.testing.assert_allclose(float(losses.hinge_generator_loss(fake.astype(np.float32))), -np.mean(fake), rtol=1e-5)
    # A margin: confident right answers cost nothing.
    assert float(losses.hinge_discriminator_loss(np.array([[3.0]], np.float32), np.array([[-2.0]], np.float32))) == 0.0


def test_every_named_loss_pairs_a_discriminator_and_a_generator_function():
    assert set(losses.ADVERSARIAL_LOSSES) == {"minimax", "wasserstein", "hinge"}
    assert losses.ADVERSARIAL_LOSSES["minimax"] == (losses.minimax_discriminator_loss,
                                                    losses.non_saturating_generator_loss)
    assert losses.ADVERSARIAL_LOSSES["wasserstein"] == (losses.wasserstein_critic_loss,
                                                        losses.wasserstein_generator_loss)


def test_r1_penalty_of_a_linear_discriminator_is_its_squared_weight_norm():
    """D(x) = sum(w * x) has the slope w at every x, so R1 = ||w||^2 (Mescheder et al. 2018)."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=(1, 4, 4, 1)).astype(np.float32)
    x = tf.constant(rng.normal(size=(8, 4, 4, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = tf.reduce_sum(w * x, axis=[1, 2, 3])
    np.testing.assert_allclose(float(losses.r1_penalty(tape.gradient(scores, x))), np.sum(w.astype(np.float64) ** 2),
                               rtol=1e-5)


def test_a_recipe_with_r1_adds_half_gamma_times_the_penalty_to_the_discriminator_loss():
    import dataclasses

    from common.adversarial import build_model
    from genmnist.models import GAN

    model = build_model(dataclasses.replace(GAN, loss="hinge", r1_weight=4.0), "fixed", seed=1)
    plain = build_model(dataclasses.replace(GAN, loss="hinge"), "fixed", seed=1)
    plain.set_weights(model.get_weights())
    rng = np.random.default_rng(4)
    real = tf.constant(rng.uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32))
    fake = tf.constant(rng.uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(real)
        real_logits = plain.discriminator(real, training=True)
    slopes = tape.gradient(real_logits, real).numpy().astype(np.float64)
    expected = float(plain.discriminator_loss(real, fake)[0]) + 2.0 * np.mean(np.sum(slopes ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(float(model.discriminator_loss(real, fake)[0]), expected, rtol=1e-5)
    assert float(model.discriminator_loss(real, fake)[0]) > float(plain.discriminator_loss(real, fake)[0])
