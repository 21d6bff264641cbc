"""The three original TF1 graphs, rebuilt op for op in ``tf.compat.v1`` graph mode.

See the package docstring for why this exists. Everything here runs inside a private
``tf.Graph`` owned by a :class:`LegacyGraph`; nothing touches the process-wide default
graph or eager mode, so the Keras port can run eagerly in the same interpreter.

Reading guide
-------------
* ``_conv2d`` .. ``_batch_norm``: the original's layer helpers (``GAN/layer/layer.py``)
  and the one contrib layer it used, rebuilt from raw ops.
* ``_build_gan`` / ``_build_wgan`` / ``_build_face``: the three constructors
  (``GANModel``, ``WGANModel``, ``WGAN_GPModel``), variables created in the original's
  order, under the original's names and scopes.
* ``LegacyGraph``: adds what the original's ``train()`` added (two Adam optimisers, D
  first, with the original's name-filtered var lists; a ``Saver`` over all global
  variables), and a small numpy-in / numpy-out API for tests and checkpoint conversion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1

__all__ = [
    "MODELS",
    "ModelConfig",
    "MODEL_CONFIGS",
    "LegacyGraph",
    "write_random_checkpoint",
    "read_checkpoint",
]


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Per-model constants, with the defaults of the original training scripts."""

    name: str
    original_class: str
    height: int
    width: int
    channels: int
    z_dim: int
    batch_size: int
    learning_rate: float
    beta1: float
    beta2: float
    critic_steps: int  # D steps per G step in one training iteration
    gp_scale: float | None  # None: no gradient penalty (vanilla GAN)


MODEL_CONFIGS: dict[str, ModelConfig] = {
    # gantrain(): lr 0.0005; train()'s default beta1 0.9; TF1 Adam's default beta2.
    "gan": ModelConfig("gan", "GANModel", 28, 28, 1, 100, 128, 5e-4, 0.9, 0.999, 1, None),
    # wgantrain(): lr 1e-4; Adam(beta1=0.5, beta2=0.9) hard-coded in train().
    "wgan": ModelConfig("wgan", "WGANModel", 28, 28, 1, 100, 64, 1e-4, 0.5, 0.9, 5, 10.0),
    # srcnn_wgan_train(): WGAN_GPModel(96, 96, 3, 128, 64), lr 1e-4.
    "face": ModelConfig("face", "WGAN_GPModel", 96, 96, 3, 128, 64, 1e-4, 0.5, 0.9, 5, 10.0),
}
MODELS = tuple(MODEL_CONFIGS)

_BN_EPSILON = 1e-5
_BN_DECAY = 0.999  # tf.contrib.layers.batch_norm's default
_TF1_ADAM_EPSILON = 1e-8


# --------------------------------------------------------------------------------------
# Layer helpers (GAN/layer/layer.py and tf.contrib.layers.batch_norm)
# --------------------------------------------------------------------------------------


def _conv2d(x, w, stride=1):
    return tf.nn.conv2d(x, w, strides=[1, stride, stride, 1], padding="SAME")


def _deconv2d(x, w, stride=2):
    # The original computes the output shape as (B, H*s, W*s, C//s): the output channel
    # count is derived from the INPUT channels, not from the kernel. Every kernel in the
    # three graphs agrees with that, but we keep the rule rather than read the kernel.
    # Spatial/channel sizes are static here; only the batch stays dynamic, as before.
    _, h, w_, c = x.shape
    batch = tf.shape(x)[0]
    output_shape = tf.stack([batch, h * stride, w_ * stride, c // stride])
    return tf.nn.conv2d_transpose(x, w, output_shape, strides=[1, stride, stride, 1], padding="SAME")


def _avg_pool_2x2(x):
    return tf.nn.avg_pool2d(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def _leaky_relu(x, alpha=0.2):
    # Written as the original wrote it rather than tf.nn.leaky_relu: same values, but the
    # gradient (and the gradient-penalty's second derivative) then flows through exactly
    # the same Maximum/Minimum ops.
    return tf.maximum(tf.minimum(0.0, alpha * x), x)


def _truncated_normal_variable(name, shape):
    return v1.get_variable(name, shape, dtype=tf.float32, initializer=v1.truncated_normal_initializer(stddev=0.02))


def _zeros_variable(name, shape):
    return v1.get_variable(name, shape, dtype=tf.float32, initializer=v1.constant_initializer(0.0))


def _xavier_variable(name, shape, n_inputs, n_outputs):
    # layer.weight_xavier_init: the caller passes the fan sizes by hand, and for
    # (de)convolutions it passed CHANNEL counts only. The range was computed as a float32
    # tf.sqrt, so do the same arithmetic here.
    limit = float(np.sqrt(np.float32(6.0 / (n_inputs + n_outputs))))
    return v1.get_variable(
        name, shape, dtype=tf.float32, initializer=v1.random_uniform_initializer(-limit, limit)
    )


def _bias_variable(name, shape):
    return v1.get_variable(name, shape, dtype=tf.float32, initializer=v1.constant_initializer(0.1))


def _batch_norm(x, phase, scope, epsilon=_BN_EPSILON, decay=_BN_DECAY):
    """``tf.contrib.layers.batch_norm(x, epsilon=1e-5, is_training=phase, scope=scope)``.

    contrib is gone and ``tf.compat.v1.layers.batch_normalization`` refuses to run next to
    Keras 3, so this rebuilds the layer's behaviour with its defaults: ``center=True``
    (``beta``), ``scale=False`` (no ``gamma``), ``decay=0.999``, moving statistics
    initialised to 0 and 1, and ``is_training`` a tensor, resolved with a ``cond``.

    Training mode normalises by the batch's own moments over every axis but the channel
    one (biased variance, as the fused kernel does). The moving-average update ops are
    built and put into ``UPDATE_OPS`` exactly as contrib did; the original's train ops
    never depended on that collection, so they never ran (quirk Q2). The update uses the
    fused kernel's Bessel-corrected batch variance, which is what contrib fed it.
    """
    channels = int(x.shape[-1])
    axes = list(range(x.shape.rank - 1))
    with v1.variable_scope(scope):
        beta = v1.get_variable("beta", [channels], tf.float32, initializer=v1.zeros_initializer())
        moving_mean = v1.get_variable(
            "moving_mean", [channels], tf.float32, initializer=v1.zeros_initializer(), trainable=False
        )
        moving_variance = v1.get_variable(
            "moving_variance", [channels], tf.float32, initializer=v1.ones_initializer(), trainable=False
        )

        def normalise_with_batch_stats():
            mean, variance = tf.nn.moments(x, axes)
            return tf.nn.batch_normalization(x, mean, variance, beta, None, epsilon)

        def normalise_with_moving_stats():
            return tf.nn.batch_normalization(x, moving_mean, moving_variance, beta, None, epsilon)

        outputs = tf.cond(phase, normalise_with_batch_stats, normalise_with_moving_stats)

        def update_moving_stats():
            mean, variance = tf.nn.moments(x, axes)
            count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
            variance = variance * count / tf.maximum(count - 1.0, 1.0)
            new_mean = v1.assign_sub(moving_mean, (moving_mean - mean) * (1.0 - decay))
            new_variance = v1.assign_sub(moving_variance, (moving_variance - variance) * (1.0 - decay))
            return new_mean, new_variance

        def keep_moving_stats():
            return tf.identity(moving_mean), tf.identity(moving_variance)

        update_mean, update_variance = tf.cond(phase, update_moving_stats, keep_moving_stats)
        v1.add_to_collections(v1.GraphKeys.UPDATE_OPS, update_mean)
        v1.add_to_collections(v1.GraphKeys.UPDATE_OPS, update_variance)
    return outputs


# --------------------------------------------------------------------------------------
# The three graphs
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class GraphTensors:
    """Handles into one built graph (the attributes of the original model object)."""

    X: tf.Tensor
    Z: tf.Tensor
    phase: tf.Tensor | None
    gen: tf.Tensor
    d_real: tf.Tensor
    d_real_logit: tf.Tensor
    d_fake: tf.Tensor
    d_fake_logit: tf.Tensor
    d_loss: tf.Tensor
    g_loss: tf.Tensor
    alpha: tf.Tensor | None = None
    interpolates: tf.Tensor | None = None
    interpolates_grad: tf.Tensor | None = None
    slopes: tf.Tensor | None = None
    gradient_penalty: tf.Tensor | None = None


def _build_gan(cfg: ModelConfig, batch_size: int | None) -> GraphTensors:
    """GANModel.__init__: D on real, then G, then D on fake (the variable creation order).

    ``batch_size`` None: the original's placeholders, with a free batch dimension.
    """
    flat = cfg.height * cfg.width * cfg.channels
    X = v1.placeholder(tf.float32, [batch_size, flat], name="X")
    Z = v1.placeholder(tf.float32, [batch_size, cfg.z_dim], name="Z")
    phase = v1.placeholder(tf.bool, name="phase")

    def discriminator(inputs, reuse):
        with v1.variable_scope("discriminator", reuse=reuse):
            # The original reshapes to (width, height), not (height, width): moot at 28x28.
            h = tf.reshape(inputs, [-1, cfg.width, cfg.height, 1])
            w1, b1 = _truncated_normal_variable("d_w1", [5, 5, 1, 32]), _zeros_variable("d_b1", [32])
            h = _avg_pool_2x2(tf.nn.relu(_conv2d(h, w1) + b1))
            w2, b2 = _truncated_normal_variable("d_w2", [5, 5, 32, 64]), _zeros_variable("d_b2", [64])
            h = _avg_pool_2x2(tf.nn.relu(_conv2d(h, w2) + b2))
            w3, b3 = _truncated_normal_variable("d_w3", [7 * 7 * 64, 1024]), _zeros_variable("d_b3", [1024])
            h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), w3) + b3)
            w4, b4 = _truncated_normal_variable("d_w4", [1024, 1]), _zeros_variable("d_b4", [1])
            logit = tf.matmul(h, w4) + b4
            return tf.nn.sigmoid(logit), logit

    def generator(z):
        # No variable scope: the generator's variables live at the root (g_w1, bn1/beta...).
        # Its biases are truncated-normal too, unlike D's zeros.
        w1, b1 = _truncated_normal_variable("g_w1", [cfg.z_dim, 1024]), _truncated_normal_variable("g_b1", [1024])
        h = tf.nn.relu(_batch_norm(tf.matmul(z, w1) + b1, phase, "bn1"))
        w2, b2 = _truncated_normal_variable("g_w2", [1024, 7 * 7 * 64]), _truncated_normal_variable("g_b2", [3136])
        h = tf.nn.relu(_batch_norm(tf.matmul(h, w2) + b2, phase, "bn2"))
        h = tf.reshape(h, [-1, 7, 7, 64])
        w3, b3 = _truncated_normal_variable("g_w3", [5, 5, 32, 64]), _truncated_normal_variable("g_b3", [32])
        h = tf.nn.relu(_batch_norm(_deconv2d(h, w3) + b3, phase, "bn3"))
        w4, b4 = _truncated_normal_variable("g_w4", [5, 5, 16, 32]), _truncated_normal_variable("g_b4", [16])
        h = tf.nn.relu(_batch_norm(_deconv2d(h, w4) + b4, phase, "bn4"))
        w5, b5 = _truncated_normal_variable("g_w5", [1, 1, 16, 1]), _truncated_normal_variable("g_b5", [1])
        return tf.nn.tanh(_conv2d(h, w5) + b5)

    d_real, d_real_logit = discriminator(X, reuse=False)
    gen = generator(Z)
    d_fake, d_fake_logit = discriminator(gen, reuse=True)
    # Quirk Q8 kept on purpose: log of the sigmoid outputs, not the softplus form, so a
    # saturated D gives inf/NaN here just as it did in the original.
    d_loss = -tf.reduce_mean(tf.math.log(d_real) + tf.math.log(1.0 - d_fake))
    g_loss = -tf.reduce_mean(tf.math.log(d_fake))
    return GraphTensors(X, Z, phase, gen, d_real, d_real_logit, d_fake, d_fake_logit, d_loss, g_loss)


def _wgan_tensors(cfg, X, Z, phase, gen, d_real, d_fake, critic) -> GraphTensors:
    """WGANModel/WGAN_GPModel._Loss_Function, including its quirks (Q4).

    alpha has the full shape of X (one value per pixel, not per sample), and the slope norm
    is taken over axis 1 only (image rows), leaving a (B, W, C) array whose mean squared
    distance to 1 is the penalty. alpha is a placeholder_with_default so a test can feed
    the same values to this graph and to the Keras port; unfed, it is the original's
    fresh uniform draw on every run.
    """
    d_loss = tf.reduce_mean(d_real) - tf.reduce_mean(d_fake)
    g_loss = tf.reduce_mean(d_fake)
    random_alpha = tf.random.uniform(X.shape, minval=0.0, maxval=1.0)
    alpha = v1.placeholder_with_default(random_alpha, X.shape, name="alpha")
    interpolates = X + alpha * (gen - X)
    d_inter = critic(interpolates, reuse=True)
    # tf.gradients of a non-scalar output differentiates its sum over the batch (and, for
    # the faces critic, over its three outputs).
    grad = tf.gradients(d_inter, [interpolates])[0]
    slopes = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1]))
    gradient_penalty = tf.reduce_mean((slopes - 1.0) ** 2)
    d_loss = d_loss + cfg.gp_scale * gradient_penalty
    # The critic has no sigmoid: its outputs are its logits.
    return GraphTensors(
        X, Z, phase, gen, d_real, d_real, d_fake, d_fake, d_loss, g_loss,
        alpha=alpha, interpolates=interpolates, interpolates_grad=grad, slopes=slopes,
        gradient_penalty=gradient_penalty,
    )


def _build_wgan(cfg: ModelConfig, batch_size: int) -> GraphTensors:
    """WGANModel.__init__ (MNIST WGAN-GP): no BN, Xavier weights, 0.1 biases."""
    X = v1.placeholder(tf.float32, [batch_size, cfg.height, cfg.width, cfg.channels], name="X")
    Z = v1.placeholder(tf.float32, [batch_size, cfg.z_dim], name="Z")
    # Declared (and fed) by the original although nothing reads it.
    phase = v1.placeholder(tf.bool, name="phase")

    def critic(inputs, reuse):
        with v1.variable_scope("discriminator", reuse=reuse):
            # The batch size is baked into this reshape, as in the original.
            h = tf.reshape(inputs, [batch_size, cfg.width, cfg.height, cfg.channels])
            w1, b1 = _xavier_variable("d_w1", [5, 5, 1, 64], 1, 64), _bias_variable("d_b1", [64])
            h = _leaky_relu(_conv2d(h, w1, 2) + b1)
            w2, b2 = _xavier_variable("d_w2", [5, 5, 64, 128], 64, 128), _bias_variable("d_b2", [128])
            h = _leaky_relu(_conv2d(h, w2, 2) + b2)
            w3 = _xavier_variable("d_w3", [7 * 7 * 128, 1024], 7 * 7 * 128, 1024)
            b3 = _bias_variable("d_b3", [1024])
            h = _leaky_relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 128]), w3) + b3)
            w4, b4 = _xavier_variable("d_w4", [1024, 1], 1024, 1), _bias_variable("d_b4", [1])
            return tf.matmul(h, w4) + b4

    def generator(z):
        with v1.variable_scope("generator"):
            w1, b1 = _xavier_variable("g_w1", [cfg.z_dim, 1024], cfg.z_dim, 1024), _bias_variable("g_b1", [1024])
            h = tf.nn.relu(tf.matmul(z, w1) + b1)
            w2 = _xavier_variable("g_w2", [1024, 128 * 7 * 7], 1024, 128 * 7 * 7)
            b2 = _bias_variable("g_b2", [128 * 7 * 7])
            h = tf.reshape(tf.nn.relu(tf.matmul(h, w2) + b2), [-1, 7, 7, 128])
            w3, b3 = _xavier_variable("g_w3", [5, 5, 64, 128], 128, 64), _bias_variable("g_b3", [64])
            h = tf.nn.relu(_deconv2d(h, w3) + b3)
            w4, b4 = _xavier_variable("g_w4", [5, 5, 32, 64], 64, 32), _bias_variable("g_b4", [32])
            h = tf.nn.relu(_deconv2d(h, w4) + b4)
            w5, b5 = _xavier_variable("g_w5", [1, 1, 32, 1], 32, 1), _bias_variable("g_b5", [1])
            return tf.nn.sigmoid(_conv2d(h, w5) + b5)

    d_real = critic(X, reuse=False)
    gen = generator(Z)
    d_fake = critic(gen, reuse=True)
    return _wgan_tensors(cfg, X, Z, phase, gen, d_real, d_fake, critic)


def _build_face(cfg: ModelConfig, batch_size: int) -> GraphTensors:
    """WGAN_GPModel.__init__ (96x96x3 faces): two more critic convs, 3-output critic (Q5)."""
    c = cfg.channels
    X = v1.placeholder(tf.float32, [batch_size, cfg.height, cfg.width, c], name="X")
    Z = v1.placeholder(tf.float32, [batch_size, cfg.z_dim], name="Z")

    def critic(inputs, reuse):
        with v1.variable_scope("discriminator", reuse=reuse):
            h = tf.reshape(inputs, [batch_size, cfg.width, cfg.height, c])
            for name, c_in, c_out in (("1", c, 64), ("2", 64, 128), ("2_2", 128, 256), ("2_3", 256, 512)):
                w = _xavier_variable(f"d_w{name}", [5, 5, c_in, c_out], c_in, c_out)
                b = _bias_variable(f"d_b{name}", [c_out])
                h = _leaky_relu(_conv2d(h, w, 2) + b)
            w3 = _xavier_variable("d_w3", [6 * 6 * 512, 1024], 6 * 6 * 512, 1024)
            b3 = _bias_variable("d_b3", [1024])
            h = _leaky_relu(tf.matmul(tf.reshape(h, [-1, 6 * 6 * 512]), w3) + b3)
            # One output per image channel: the original's quirk Q5.
            w4, b4 = _xavier_variable("d_w4", [1024, c], 1024, c), _bias_variable("d_b4", [c])
            return tf.matmul(h, w4) + b4

    def generator(z):
        with v1.variable_scope("generator"):
            w1, b1 = _xavier_variable("g_w1", [cfg.z_dim, 1024], cfg.z_dim, 1024), _bias_variable("g_b1", [1024])
            h = tf.nn.relu(tf.matmul(z, w1) + b1)
            w2 = _xavier_variable("g_w2", [1024, 512 * 6 * 6], 1024, 512 * 6 * 6)
            b2 = _bias_variable("g_b2", [512 * 6 * 6])
            h = tf.reshape(tf.nn.relu(tf.matmul(h, w2) + b2), [-1, 6, 6, 512])
            for k, c_in in zip(range(3, 7), (512, 256, 128, 64)):
                c_out = c_in // 2
                w = _xavier_variable(f"g_w{k}", [5, 5, c_out, c_in], c_in, c_out)
                b = _bias_variable(f"g_b{k}", [c_out])
                h = tf.nn.relu(_deconv2d(h, w, 2) + b)
            w7, b7 = _xavier_variable("g_w7", [1, 1, 32, c], 32, c), _bias_variable("g_b7", [c])
            return tf.nn.sigmoid(_conv2d(h, w7) + b7)

    d_real = critic(X, reuse=False)
    gen = generator(Z)
    d_fake = critic(gen, reuse=True)
    return _wgan_tensors(cfg, X, Z, None, gen, d_real, d_fake, critic)


_BUILDERS = {"gan": _build_gan, "wgan": _build_wgan, "face": _build_face}


# --------------------------------------------------------------------------------------
# Session wrapper
# --------------------------------------------------------------------------------------


def _strip_suffix(name: str) -> str:
    return name[:-2] if name.endswith(":0") else name


class LegacyGraph:
    """One original model, with its training ops, in a private graph and session.

    Build with :meth:`build`. All inputs and outputs are numpy arrays. Variable names are
    the checkpoint keys of the original's ``tf.train.Saver(tf.all_variables())``.
    """

    def __init__(
        self,
        model: str,
        *,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        beta1: float | None = None,
        beta2: float | None = None,
        seed: int | None = None,
        session_config: v1.ConfigProto | None = None,
        fixed_batch: bool = False,
    ):
        if model not in MODEL_CONFIGS:
            raise ValueError(f"model must be one of {MODELS}, got {model!r}")
        cfg = MODEL_CONFIGS[model]
        self.config = cfg
        self.model = model
        self.batch_size = int(batch_size or cfg.batch_size)
        self.learning_rate = float(cfg.learning_rate if learning_rate is None else learning_rate)
        self.beta1 = float(cfg.beta1 if beta1 is None else beta1)
        self.beta2 = float(cfg.beta2 if beta2 is None else beta2)
        self.seed = seed

        self.graph = tf.Graph()
        if seed is not None:
            # A graph-level seed makes every initialiser and the unfed alpha reproducible
            # from build to build (op seeds derive from it and the op creation order).
            self.graph.seed = seed
        with self.graph.as_default():
            # The original's vanilla GAN fed any batch size (the WGANs' placeholders have
            # theirs); ``fixed_batch`` gives every op a static shape, as tf.profiler needs.
            free_batch = model == "gan" and not fixed_batch
            t = _BUILDERS[model](cfg, None if free_batch else self.batch_size)
            self.tensors = t

            # What train() added: the original's name filters over the trainable
            # variables. For the vanilla GAN they leave the BN betas in neither list (Q1).
            trainable = v1.trainable_variables()
            self.d_vars = [v for v in trainable if "d_" in v.name]
            self.g_vars = [v for v in trainable if "g_" in v.name]

            # Two Adam optimisers, D's built first: that order names D's beta powers
            # beta1_power/beta2_power and G's beta1_power_1/beta2_power_1.
            d_optimizer = v1.train.AdamOptimizer(self.learning_rate, self.beta1, self.beta2, _TF1_ADAM_EPSILON)
            self.train_d_op = d_optimizer.minimize(t.d_loss, var_list=self.d_vars)
            g_optimizer = v1.train.AdamOptimizer(self.learning_rate, self.beta1, self.beta2, _TF1_ADAM_EPSILON)
            self.train_g_op = g_optimizer.minimize(t.g_loss, var_list=self.g_vars)
            self.update_ops = list(v1.get_collection(v1.GraphKeys.UPDATE_OPS))

            # Separate gradient tensors for inspection; minimize() builds its own.
            with tf.name_scope("inspect_gradients"):
                self._d_grads = tf.gradients(t.d_loss, self.d_vars)
                self._g_grads = tf.gradients(t.g_loss, self.g_vars)

            self._variables = {v.op.name: v for v in v1.global_variables()}
            with tf.name_scope("assign"):
                self._assign_inputs = {}
                self._assign_ops = {}
                for name, var in self._variables.items():
                    value = v1.placeholder(var.dtype.base_dtype, var.shape)
                    self._assign_inputs[name] = value
                    self._assign_ops[name] = var.assign(value, read_value=False)
            self.saver = v1.train.Saver(var_list=v1.global_variables())
            init = v1.global_variables_initializer()
        self.graph.finalize()
        self.session = v1.Session(graph=self.graph, config=session_config)
        self.session.run(init)

    @classmethod
    def build(
        cls,
        model: str = "gan",
        batch_size: int | None = None,
        learning_rate: float | None = None,
        beta1: float | None = None,
        seed: int | None = None,
        **kwargs,
    ) -> LegacyGraph:
        """Build and initialise one original graph: ``model`` is 'gan', 'wgan' or 'face'."""
        return cls(model, batch_size=batch_size, learning_rate=learning_rate, beta1=beta1, seed=seed, **kwargs)

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> LegacyGraph:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- variables and checkpoints ---------------------------------------------------

    @property
    def variable_names(self) -> list[str]:
        return list(self._variables)

    @property
    def d_var_names(self) -> list[str]:
        return [v.op.name for v in self.d_vars]

    @property
    def g_var_names(self) -> list[str]:
        return [v.op.name for v in self.g_vars]

    def variable_shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: tuple(var.shape.as_list()) for name, var in self._variables.items()}

    def variables(self, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Current values of all global variables (Adam slots and beta powers included)."""
        names = list(self._variables) if names is None else [_strip_suffix(n) for n in names]
        values = self.session.run([self._variables[n] for n in names])
        return dict(zip(names, values))

    def assign(self, values: Mapping[str, np.ndarray]) -> None:
        """Set any subset of the global variables; all problems are reported at once."""
        problems = []
        feed, ops = {}, []
        for raw_name, value in values.items():
            name = _strip_suffix(raw_name)
            if name not in self._variables:
                problems.append(f"unknown variable {raw_name!r}")
                continue
            value = np.asarray(value, dtype=np.float32)
            expected = tuple(self._variables[name].shape.as_list())
            if value.shape != expected:
                problems.append(f"{name}: shape {value.shape} != expected {expected}")
                continue
            feed[self._assign_inputs[name]] = value
            ops.append(self._assign_ops[name])
        if problems:
            raise ValueError("cannot assign: " + "; ".join(problems))
        if ops:
            self.session.run(ops, feed)

    def save(self, prefix: str, write_meta_graph: bool = True) -> str:
        """``Saver(all global variables).save``: the original's checkpoint layout."""
        # Saver decides graph vs eager mode from the ambient context, so enter our graph.
        with self.graph.as_default():
            return self.saver.save(self.session, prefix, write_meta_graph=write_meta_graph)

    def restore(self, prefix: str, strict: bool = True) -> list[str]:
        """Restore from a Saver checkpoint; returns the names NOT found in it.

        ``strict=True`` is ``Saver.restore`` (every variable must be present). With
        ``strict=False`` whatever the checkpoint holds is loaded by name and the rest is
        left alone, e.g. for a checkpoint written without optimiser state.
        """
        if strict:
            with self.graph.as_default():
                self.saver.restore(self.session, prefix)
            return []
        stored = read_checkpoint(prefix)
        present = {n: v for n, v in stored.items() if n in self._variables}
        self.assign(present)
        return [n for n in self._variables if n not in present]

    # -- feeding -----------------------------------------------------------------------

    def _x(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        cfg = self.config
        if self.model == "gan":
            return x.reshape(x.shape[0], cfg.height * cfg.width * cfg.channels)
        return x.reshape(x.shape[0], cfg.height, cfg.width, cfg.channels)

    def _feed(self, z=None, x=None, alpha=None, phase=True) -> dict:
        t = self.tensors
        feed = {}
        if z is not None:
            feed[t.Z] = np.asarray(z, dtype=np.float32)
        if x is not None:
            feed[t.X] = self._x(x)
        if alpha is not None:
            if t.alpha is None:
                raise ValueError("the vanilla GAN has no gradient penalty, hence no alpha")
            feed[t.alpha] = np.asarray(alpha, dtype=np.float32).reshape(t.alpha.shape)
        if self.model == "gan":
            feed[t.phase] = bool(phase)
        return feed

    # -- evaluation --------------------------------------------------------------------

    def forward(self, z, x, alpha=None) -> dict[str, np.ndarray]:
        """Evaluate everything the losses are made of, in one run (phase True for the GAN).

        Keys: ``gen``, ``d_real``, ``d_real_logit``, ``d_fake``, ``d_fake_logit``,
        ``d_loss``, ``g_loss``; GAN also ``gen_phase_false``; WGANs also ``alpha`` (the
        one used, fed or drawn), ``interpolates``, ``interpolates_grad``, ``slopes``,
        ``gradient_penalty``. For the WGANs ``d_*`` and ``d_*_logit`` are the same
        critic output.
        """
        t = self.tensors
        fetches = {
            "gen": t.gen,
            "d_real": t.d_real,
            "d_real_logit": t.d_real_logit,
            "d_fake": t.d_fake,
            "d_fake_logit": t.d_fake_logit,
            "d_loss": t.d_loss,
            "g_loss": t.g_loss,
        }
        if t.alpha is not None:
            fetches.update(
                alpha=t.alpha,
                interpolates=t.interpolates,
                interpolates_grad=t.interpolates_grad,
                slopes=t.slopes,
                gradient_penalty=t.gradient_penalty,
            )
        out = self.session.run(fetches, self._feed(z, x, alpha))
        if self.model == "gan":
            out["gen_phase_false"] = self.session.run(t.gen, self._feed(z, phase=False))
        return out

    def gradients(self, z, x, alpha=None) -> dict[str, np.ndarray]:
        """{name: gradient}: d_loss over the D var list and g_loss over the G var list."""
        d_grads, g_grads = self.session.run([self._d_grads, self._g_grads], self._feed(z, x, alpha))
        out = dict(zip(self.d_var_names, d_grads))
        out.update(zip(self.g_var_names, g_grads))
        return out

    def generate(self, z, phase: bool = True) -> np.ndarray:
        """Generator output for ``z``; ``phase`` only matters for the GAN (Q2: the original
        predicted with phase=1, i.e. with the batch statistics of the z batch)."""
        return self.session.run(self.tensors.gen, self._feed(z, phase=phase))

    def run_update_ops(self, z, phase: bool = True) -> None:
        """Run the BN moving-average updates the original built but never ran (GAN only)."""
        if not self.update_ops:
            raise ValueError(f"model {self.model!r} has no batch norm")
        self.session.run(self.update_ops, self._feed(z, phase=phase))

    # -- training ----------------------------------------------------------------------

    def d_step(self, x, z, alpha=None) -> float:
        """One run of the D train op; returns d_loss as fetched in that run (pre-update)."""
        _, d_loss = self.session.run([self.train_d_op, self.tensors.d_loss], self._feed(z, x, alpha))
        return float(d_loss)

    def g_step(self, z, x=None) -> float:
        """One run of the G train op; returns g_loss as fetched in that run (pre-update).

        The WGAN scripts fed only Z here; g_loss never reads X, so x is optional.
        """
        _, g_loss = self.session.run([self.train_g_op, self.tensors.g_loss], self._feed(z, x))
        return float(g_loss)

    def pretrain_step(self, x, z) -> float:
        """GAN only: one of the 30 D-only steps gantrain ran before the main loop."""
        if self.model != "gan":
            raise ValueError("only the vanilla GAN had a discriminator pre-training phase")
        return self.d_step(x, z)

    def train_iteration(self, x, z, alphas=None) -> dict:
        """One iteration of the original training loop on one real batch ``x``.

        GAN: ``z`` one array; a D step then a G step on the SAME z (and x).
        WGANs: ``z`` six arrays (five critic steps, each with its own z and alpha, on the
        same real batch, then the G step); ``alphas`` None or five arrays/None.
        Returns the losses fetched with the train ops: ``d_loss`` (the last critic
        step's, as the original printed), ``d_losses`` (every critic step) and ``g_loss``.
        """
        if self.model == "gan":
            z = np.asarray(z, dtype=np.float32)
            if z.ndim == 3:
                if z.shape[0] != 1:
                    raise ValueError("the GAN iteration uses one z for both steps")
                z = z[0]
            d_loss = self.d_step(x, z)
            g_loss = self.g_step(z, x)
            return {"d_loss": d_loss, "d_losses": [d_loss], "g_loss": g_loss}

        steps = self.config.critic_steps
        zs = list(z)
        if len(zs) != steps + 1:
            raise ValueError(f"a {self.model} iteration takes {steps + 1} z batches, got {len(zs)}")
        alphas = [None] * steps if alphas is None else list(alphas)
        if len(alphas) != steps:
            raise ValueError(f"a {self.model} iteration takes {steps} alphas, got {len(alphas)}")
        d_losses = [self.d_step(x, zs[k], alphas[k]) for k in range(steps)]
        g_loss = self.g_step(zs[steps])
        return {"d_loss": d_losses[-1], "d_losses": d_losses, "g_loss": g_loss}


# --------------------------------------------------------------------------------------
# Checkpoint helpers
# --------------------------------------------------------------------------------------


def read_checkpoint(prefix: str) -> dict[str, np.ndarray]:
    """Every tensor of a Saver checkpoint, by name (works for the original's files too)."""
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def _next_batch(images, batch_size, index_in_epoch, rng):
    """The original ``_next_batch``, faithfully, including its lost reshuffle (Q6).

    When a batch would run past the end it shuffles a local copy and returns that copy's
    first batch; the copy is then dropped, so the rest of the epoch replays the original
    order from index ``batch_size``.
    """
    start, index_in_epoch = index_in_epoch, index_in_epoch + batch_size
    if index_in_epoch > images.shape[0]:
        assert batch_size <= images.shape[0]
        images = images[rng.permutation(images.shape[0])]
        start, index_in_epoch = 0, batch_size
    return images[start:index_in_epoch], index_in_epoch


def write_random_checkpoint(
    model: str,
    prefix: str,
    seed: int = 0,
    *,
    data: np.ndarray | None = None,
    iterations: int = 0,
    pretrain_steps: int = 0,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    beta1: float | None = None,
    on_iteration: Callable[[int, LegacyGraph, dict], None] | None = None,
    resume_from: tuple[str, int] | None = None,
) -> str:
    """Write a checkpoint shaped exactly like one the original's train() saved.

    Builds the graph with graph seed ``seed``, initialises it, optionally runs
    ``pretrain_steps`` D-only steps (GAN; the original ran 30) and ``iterations`` full
    training iterations on ``data`` (uint8 images are divided by 255, as the original
    did), with z ~ N(0, 1) from ``numpy.random.default_rng(seed)`` and the original's
    batch order, then saves with a Saver over all global variables. Returns the path.
    ``on_iteration(i, graph, losses)``, if given, runs after each training iteration
    (progress, sample grids); it must not draw from the graph's random state.
    ``resume_from=(prefix, done)`` restores a checkpoint this function saved after ``done``
    iterations and replays the random draws and batch positions of the steps before it, so
    the run goes on exactly as if it had never stopped (the GAN graph has no random ops).
    """
    if (iterations or pretrain_steps) and data is None:
        raise ValueError("training iterations need data")
    if resume_from is not None and model != "gan":
        # The WGAN graphs draw their penalty's interpolation weights from TF1's own random
        # state, which a restored session does not replay.
        raise ValueError(f"resume_from replays the vanilla GAN's draws only, not {model!r}'s")
    rng = np.random.default_rng(seed)
    with LegacyGraph.build(model, batch_size=batch_size, learning_rate=learning_rate, beta1=beta1, seed=seed) as g:
        if data is not None and (iterations or pretrain_steps):
            images = np.asarray(data)
            images = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)
            images = g._x(images)
            b, z_dim, index = g.batch_size, g.config.z_dim, 0

            def draw_z():
                return rng.standard_normal((b, z_dim)).astype(np.float32)

            done = 0
            if resume_from is not None:
                prefix_done, done = resume_from
                g.restore(prefix_done)
                positions = np.arange(images.shape[0])  # the batch order without the pixels
                for _ in range(pretrain_steps + done):  # the GAN's steps draw one z each
                    _, index = _next_batch(positions, b, index, rng)
                    draw_z()
            for _ in range(0 if resume_from is not None else pretrain_steps):
                x, index = _next_batch(images, b, index, rng)
                g.pretrain_step(x, draw_z())
            for i in range(done, iterations):
                x, index = _next_batch(images, b, index, rng)
                zs = draw_z() if model == "gan" else [draw_z() for _ in range(g.config.critic_steps + 1)]
                losses = g.train_iteration(x, zs)
                if on_iteration is not None:
                    on_iteration(i, g, losses)
        return g.save(prefix)
