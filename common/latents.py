"""The latent vectors generation is fed: seeded draws, the truncation trick, spherical
interpolation, and vectors a user gives in a ``.npy`` file.

Every draw is a function of its seed, so the same command gives the same images anywhere.
"""

import os

import numpy as np

from common.errors import UserError, require

# Below this, redrawing every component beyond PSI standard deviations takes more than
# 100 draws per component kept (and z is within 0.01 of 0 anyway).
MIN_TRUNCATION = 0.01


def sample_latents(count, z_dim, seed):
    """Latent vectors z ~ N(0, 1) [count, z_dim] from a seeded NumPy generator."""
    return np.random.default_rng(seed).standard_normal((count, z_dim)).astype(np.float32)


def sample_truncated_latents(count, z_dim, seed, psi):
    """z ~ N(0, 1) [count, z_dim] with every component beyond ``psi`` redrawn until within.

    The first draw is :func:`sample_latents`'s; the redraws continue the
    same seeded generator, so a seed always gives the same vectors.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((count, z_dim)).astype(np.float32)
    outside = np.abs(z) > psi
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum())).astype(np.float32)
        outside = np.abs(z) > psi
    return z


def slerp(start, end, steps):
    """``steps`` points along the great circle from ``start`` to ``end`` (rows of vectors),
    [rows, steps, z_dim]; the first and last are ``start`` and ``end`` exactly.

    Where the two are (anti)parallel the arc is undefined and the points lie on the line.
    """
    a, b = np.asarray(start, np.float64), np.asarray(end, np.float64)
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    cosine = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-30)
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))[:, None, None]
    sine = np.sin(omega)
    arc = np.abs(sine) > 1e-6
    safe = np.where(arc, sine, 1.0)
    along = np.where(arc, (np.sin((1 - t) * omega) * a[:, None] + np.sin(t * omega) * b[:, None]) / safe,
                     (1 - t) * a[:, None] + t * b[:, None])
    path = along.astype(np.float32)
    path[:, 0], path[:, -1] = start, end
    return path


def load_latents(path, z_dim):
    require(os.path.exists(path), f"{path}: no such file; --z takes a .npy file of latent vectors")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UserError(f"{path}: not a readable .npy array ({exc})") from exc
    require(isinstance(z, np.ndarray) and np.issubdtype(z.dtype, np.number),
            f"{path}: expected a numeric array of latent vectors")
    require(not np.iscomplexobj(z), f"{path}: complex latent vectors ({z.dtype}); z must be real numbers")
    z = z.reshape(1, -1) if z.ndim == 1 else z
    require(z.ndim == 2 and z.shape[1] == z_dim and len(z) > 0,
            f"{path}: latent vectors of shape {z.shape}, this model needs [N, {z_dim}]")
    require(np.all(np.isfinite(z)), f"{path}: NaN or infinite latent values")
    return z.astype(np.float32)
