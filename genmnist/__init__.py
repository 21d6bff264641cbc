"""MNIST models of the original: the vanilla GAN (``GANModel``) and the WGAN-GP (``WGANModel``).

``python -m genmnist --help`` for the command line; :mod:`genmnist.facade` for the
original's Python API.
"""

import common  # noqa: F401  (quietens TensorFlow before anything imports it)
