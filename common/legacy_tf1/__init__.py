"""The original TF1 graphs, re-created in ``tf.compat.v1`` graph mode.

Why this exists
---------------
The project ports ``junqiangchen/GAN`` (TensorFlow 1.8, ``tf.contrib``, placeholders,
``tf.train.Saver``) to Keras 3. Two things need the ORIGINAL graphs, not the port:

* an oracle: parity tests feed the same weights, z, real batch and gradient-penalty
  alpha to this package and to the Keras models, and compare outputs, losses, gradients
  and Adam updates. Only a graph built the original way, quirks included, can tell
  whether the port reproduces the original's math;
* a bridge: users hold checkpoints that the original's
  ``tf.train.Saver(tf.all_variables())`` wrote. Their keys (``g_w1``, ``bn1/beta``,
  ``discriminator/d_w1/Adam_1``, ``beta1_power_1``...) are exactly the global variables of
  these graphs, so a checkpoint can be restored here, read out as numpy arrays and
  handed to the Keras side, and the reverse (``assign`` then ``save``) writes a
  checkpoint the original code could load.

The original can no longer run as written: ``tf.contrib.layers.batch_norm`` is gone and
``tf.compat.v1.layers.batch_normalization`` raises under Keras 3, so batch norm is
rebuilt from raw ops with contrib's semantics; everything else uses the same ops as
before. Each :class:`LegacyGraph` owns its own ``tf.Graph`` and ``tf.compat.v1.Session``
and never touches the default graph or eager mode, so it coexists with the eager Keras
port in one process.

Example::

    from common.legacy_tf1 import LegacyGraph

    with LegacyGraph.build("wgan", batch_size=4, seed=0) as g:
        weights = g.variables()            # {"generator/g_w1": array, ...}
        out = g.forward(z, x, alpha=alpha)   # losses, logits, gradient penalty
        g.train_iteration(x, zs, alphas)     # 5 critic steps + 1 G step
        g.save("/tmp/wgan")                  # the original's checkpoint layout
"""

from .graphs import (
    MODEL_CONFIGS,
    MODELS,
    LegacyGraph,
    ModelConfig,
    read_checkpoint,
    write_random_checkpoint,
)

__all__ = [
    "MODELS",
    "MODEL_CONFIGS",
    "ModelConfig",
    "LegacyGraph",
    "read_checkpoint",
    "write_random_checkpoint",
]
