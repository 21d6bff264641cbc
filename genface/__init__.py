"""The faces WGAN-GP of the original (``WGAN_GPModel``) and its default data, cartoon faces.

``python -m genface --help`` for the command line; :mod:`genface.facade` for the
original's Python API; :mod:`genface.cartoon` draws the embedded default data set.
"""

import common  # noqa: F401  (quietens TensorFlow before anything imports it)
