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


def test_normalized_entropy_by_hand():
    assert metrics.normalized_entropy([1.0, 0.0, 0.0]) == 0.0
    assert metrics.normalized_entropy([0.25] * 4) == pytest.approx(1.0)
    # two of four classes, half each: ln 2 / ln 4
    assert metrics.normalized_entropy([0.5, 0.5, 0.0, 0.0]) == pytest.approx(0.5)
    # -(0.75 ln 0.75 + 0.25 ln 0.25) / ln 2
    assert metrics.normalized_entropy([0.75, 0.25]) == pytest.approx(0.8112781244591328)


def test_classes_shown_counts_classes_above_the_threshold():
    assert metrics.classes_shown([0.5, 0.3, 0.195, 0.005]) == 3
    assert metrics.classes_shown([0.5, 0.3, 0.195, 0.005], min_fraction=0.001) == 4
    assert metrics.classes_shown([1.0, 0.0]) == 1


def test_kernel_distance_in_one_dimension_by_hand():
    # d = 1, k(x, y) = (x y + 1)^3. a = {0, 1}, b = {2, 0, 1}.
    # within a: k(0,1) = 1, both orders: 2 / (2 * 1) = 1
    # within b: k(2,0) = 1, k(2,1) = 27, k(0,1) = 1, both orders: 58 / (3 * 2) = 29/3
    # across: a=0 gives 1, 1, 1; a=1 gives 27, 1, 8: 39 / (2 * 3) = 6.5
    expected = 1 + 29 / 3 - 2 * 6.5
    assert metrics.kernel_distance([[0.0], [1.0]], [[2.0], [0.0], [1.0]]) == pytest.approx(expected)
    assert expected == pytest.approx(-7 / 3)


def test_kernel_distance_matches_the_definition_written_as_loops():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 3)), rng.normal(0.5, 1.0, size=(4, 3))

    def k(x, y):
        return (sum(xi * yi for xi, yi in zip(x, y)) / 3 + 1) ** 3

    m, n = len(a), len(b)
    within_a = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_b = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    across = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    assert metrics.kernel_distance(a, b) == pytest.approx(within_a + within_b - 2 * across)


def test_kernel_distance_is_unbiased_near_zero_for_one_distribution_and_grows_apart():
    rng = np.random.default_rng(0)
    same = [metrics.kernel_distance(rng.normal(size=(20, 4)), rng.normal(size=(30, 4))) for _ in range(200)]
    # Unbiased: the mean over many small draws is about 0 (the Frechet distance's is not).
    assert abs(np.mean(same)) < 4 * np.std(same) / np.sqrt(len(same))
    shifted = metrics.kernel_distance(rng.normal(size=(20, 4)), rng.normal(1.0, 1.0, size=(30, 4)))
    assert shifted > max(same)


def test_kernel_distance_needs_two_samples_a_set():
    with pytest.raises(ValueError):
        metrics.kernel_distance([[1.0]], [[1.0], [2.0]])
