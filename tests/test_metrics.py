"""The quality metrics against values worked out by hand."""

import numpy as np
import pytest

from common import metrics


def test_classifier_score_is_1_for_one_repeated_prediction_and_k_for_k_confident_balanced_classes():
    same = np.tile([[0.1, 0.7, 0.2]], (6, 1))
    assert metrics.classifier_score(same) == pytest.approx(1.0)
    assert metrics.classifier_score(np.full((5, 4), 0.25)) == pytest.approx(1.0)
    assert metrics.classifier_score(np.eye(10)[np.arange(50) % 10]) == pytest.approx(10.0, rel=1e-6)


def test_classifier_score_of_two_half_confident_samples_by_hand():
    p = np.array([[0.5, 0.5], [1.0, 0.0]])
    # marginal (0.75, 0.25); KL_1 = ln(0.5/0.75)/2 + ln(0.5/0.25)/2; KL_2 = ln(1/0.75)
    kl = [0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(2.0), np.log(1 / 0.75)]
    assert metrics.classifier_score(p) == pytest.approx(np.exp(np.mean(kl)))


def test_frechet_distance_in_one_dimension_by_hand():
    # (m1 - m2)^2 + s1 + s2 - 2 sqrt(s1 s2), variances s
    assert metrics.frechet_distance(1.0, 4.0, 3.0, 9.0) == pytest.approx(4 + 4 + 9 - 2 * 6)


def test_frechet_distance_of_identical_gaussians_is_zero_even_if_singular():
    cov = np.diag([2.0, 0.0, 1.0])  # a feature that never varies
    assert metrics.frechet_distance(np.ones(3), cov, np.ones(3), cov) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_diagonal_gaussians_by_hand():
    m1, m2 = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    c1, c2 = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    expected = 1.0 + (1 + 4 - 2 * 2) + (4 + 1 - 2 * 2)
    assert metrics.frechet_distance(m1, c1, m2, c2) == pytest.approx(expected)


def test_feature_statistics_use_the_unbiased_covariance():
    mean, cov = metrics.feature_statistics(np.array([[0.0, 0.0], [2.0, 4.0]]))
    np.testing.assert_allclose(mean, [1.0, 2.0])
    np.testing.assert_allclose(cov, [[2.0, 4.0], [4.0, 8.0]])


def test_class_fractions_count_argmaxes():
    p = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.3, 0.1], [0.0, 0.0, 1.0]])
    assert metrics.class_fractions(p) == [0.5, 0.25, 0.25]
