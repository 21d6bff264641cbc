"""MNIST models of the original: the vanilla GAN (``GANModel``) and the WGAN-GP (``WGANModel``).

``python -m genmnist --help`` for the command line; :mod:`genmnist.facade` for the
original's Python API.
"""

import os

import common  # noqa: F401  (quietens TensorFlow before anything imports it)

# The embedded 10,000-digit MNIST sample: the default training data and the scorer's reference.
EMBEDDED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist10k.npz")
