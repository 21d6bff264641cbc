"""Sample-quality metrics as small pure functions of classifier outputs.

The original reported no number; the port reports these, computed in the feature space
of a classifier of the data's own domain (a small CNN the project trains:
:mod:`genmnist.classifier`, :mod:`genface.scorer`), as TF-GAN's ``classifier_score`` and
``frechet_classifier_distance`` do with Inception; and, on request, the kernel distance
in InceptionV3 features (KID).
"""

import numpy as np
from scipy import linalg


def classifier_score(probabilities, eps=1e-12):
    """exp(E_x KL(p(y|x) || p(y))): the Inception Score of Salimans et al. (2016), eq. in sec. 4.

    ``probabilities`` is [N, classes], each row a distribution. The score lies between 1
    (every sample gets the same prediction, or every prediction is uniform) and the
    number of classes (confident predictions, classes used equally).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    marginal = p.mean(axis=0, keepdims=True)
    kl = np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def feature_statistics(features):
    """Mean and covariance (unbiased, as TF-GAN and the FID paper use) of [N, D] features."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix):
    values, vectors = linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mean_a, cov_a, mean_b, cov_b):
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)): the Frechet distance of two Gaussians.

    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium" (2017), eq. 6, there in Inception features (FID); here in a domain
    classifier's features. ``Tr (S_a S_b)^(1/2)`` is taken as ``Tr (A S_b A)^(1/2)`` with
    ``A = S_a^(1/2)``: the same eigenvalues, but a symmetric matrix, so covariances that
    are singular (ReLU features that never fire) need no special case.
    """
    mean_a, mean_b = np.atleast_1d(mean_a), np.atleast_1d(mean_b)
    cov_a, cov_b = np.atleast_2d(cov_a), np.atleast_2d(cov_b)
    root_a = _psd_sqrt(cov_a)
    cross = np.sqrt(np.clip(linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0, None)).sum()
    diff = mean_a - mean_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross)


def class_fractions(probabilities, classes=None):
    """The fraction of samples whose most likely class is each class: mode collapse at a glance."""
    p = np.asarray(probabilities)
    classes = classes or p.shape[1]
    counts = np.bincount(p.argmax(axis=1), minlength=classes)
    return (counts / max(len(p), 1)).tolist()


def normalized_entropy(fractions):
    """H(p) / ln(K) of a distribution over K classes: 0 when one class has everything, 1 when uniform.

    A one-number summary of how evenly samples spread over the classes of a factor; a
    generator that collapses onto a few hair colours scores far below real faces.
    """
    p = np.asarray(fractions, dtype=np.float64)
    if len(p) < 2:
        return 0.0
    nonzero = p[p > 0]
    return max(0.0, float(-(nonzero * np.log(nonzero)).sum() / np.log(len(p))))


def classes_shown(fractions, min_fraction=0.01):
    """How many classes hold at least ``min_fraction`` of the samples.

    A class that a classifier's mistakes alone put a few samples in does not count as
    shown; the default, 1%, is below the rarest class of the cartoon faces.
    """
    return int(np.sum(np.asarray(fractions, dtype=np.float64) >= min_fraction))


def kernel_distance(features_a, features_b):
    """Unbiased MMD^2 between two sets of [N, d] features, kernel k(x, y) = (x.y / d + 1)^3.

    The Kernel Inception Distance (KID) when the features are InceptionV3's: Binkowski et
    al., "Demystifying MMD GANs" (2018), sec. 5. Unlike the Frechet distance it has no
    bias from the sample counts, so small sets compare fairly; it can be slightly
    negative when the two sets come from one distribution. The kernel matrices are
    N x N: keep each set to a few thousand samples.
    """
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    m, n, d = len(a), len(b), a.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"kernel_distance needs at least 2 samples per set, got {m} and {n}")
    k_aa = (a @ a.T / d + 1.0) ** 3
    k_bb = (b @ b.T / d + 1.0) ** 3
    k_ab = (a @ b.T / d + 1.0) ** 3
    within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(within_a + within_b - 2.0 * k_ab.mean())
