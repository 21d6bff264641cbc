"""One adversarial training step for all three models.

The original had three classes, each with its own copy of the training loop. Their loops
differ only in a handful of facts, which a :class:`Recipe` holds as data:

==========================  ==================  ===========================
                            vanilla GAN         WGAN-GP (MNIST and faces)
==========================  ==================  ===========================
losses                      minimax / non-sat.  critic + penalty / critic
discriminator steps per G   1                   5
discriminator-only warm-up  30 steps            none
G step's z                  the D step's z      a fresh z
==========================  ==================  ===========================

One ``fit`` step is one iteration of the original's loop: it takes one real batch, makes
``discriminator_steps`` discriminator updates on it (a fresh z each), then, once the
warm-up is over, one generator update. Every random draw (z, the penalty's alphas) is a
stateless function of ``(seed, step)``, so training N steps and resuming for N more gives
exactly the weights of 2N steps in one go.
"""

import dataclasses
import importlib
from typing import Callable

import keras
import tensorflow as tf

from common import losses

FIDELITIES = ("legacy", "fixed")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that makes one of the original's models different from the others."""

    name: str
    z_dim: int
    image_shape: tuple
    build_generator: Callable
    build_discriminator: Callable
    loss: str  # "minimax" or "wasserstein"
    discriminator_steps: int
    pretrain_steps: int
    share_z: bool  # the generator step reuses the last discriminator step's z
    default_steps: int
    default_batch_size: int
    default_learning_rate: float
    beta1: float
    beta2: float = 0.999
    penalty_weight: float = 10.0
    # Quirk Q3: the vanilla GAN's tanh generator was trained on [0, 1] data. In fixed
    # fidelity its data is scaled to [-1, 1] and its outputs mapped back.
    symmetric_data_when_fixed: bool = False
    sample_prefix: str = "sample"
    batch_norm: bool = False
    description: str = ""

    def generator_images(self, outputs, fidelity):
        """Generator outputs to images in [0, 1] (unclipped: the writer clips)."""
        if self.symmetric_data_when_fixed and fidelity == "fixed":
            return (outputs + 1.0) / 2.0
        return outputs


# --- recipes by name, for the .keras format ----------------------------------------------
#
# A ``.keras`` file stores a model's config as JSON, and a Recipe holds functions, which
# JSON cannot. So a model is saved with its recipe's NAME, ``"genmnist.models:gan"`` (the
# module that defines it and the key in that module's ``RECIPES`` dict), and the name is
# looked up when the file is loaded. Only the modules listed here are ever imported for a
# lookup: a file cannot make the loader run code of its choosing, so Keras' safe mode stays
# meaningful.

RECIPE_MODULES = ("genmnist.models", "genface.models")


def recipe_key(recipe):
    """``"module:name"`` of a recipe, from the module its generator builder lives in."""
    return f"{recipe.build_generator.__module__}:{recipe.name}"


def lookup_recipe(key):
    """The registered recipe called ``key`` (see :func:`recipe_key`)."""
    module_name, _, name = str(key).partition(":")
    if module_name not in RECIPE_MODULES:
        raise ValueError(f"unknown recipe {key!r}: recipes come from {RECIPE_MODULES}")
    recipes = getattr(importlib.import_module(module_name), "RECIPES", {})
    if name not in recipes:
        raise ValueError(f"unknown recipe {key!r}: {module_name} defines {sorted(recipes)}")
    return recipes[name]


def recipe_changes(recipe):
    """The plain fields in which ``recipe`` differs from its registered original (JSON-ready)."""
    registered = lookup_recipe(recipe_key(recipe))
    changes = {}
    for field in dataclasses.fields(recipe):
        value, original = getattr(recipe, field.name), getattr(registered, field.name)
        if value == original:
            continue
        if callable(value) or not isinstance(value, (int, float, str, bool, tuple)):
            raise ValueError(f"recipe {recipe.name!r}: field {field.name} differs from the "
                             f"registered recipe and cannot be saved")
        changes[field.name] = list(value) if isinstance(value, tuple) else value
    return changes


def check_fidelity(fidelity):
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    return fidelity


@keras.saving.register_keras_serializable(package="gan_port")
class AdversarialModel(keras.Model):
    """A generator and a discriminator trained against each other by ``fit``.

    ``compile(d_optimizer=..., g_optimizer=...)`` then ``fit(batches_of_real_images)``;
    each step returns ``{"d_loss", "g_loss"}`` as the original's summaries logged them:
    the discriminator loss of the last discriminator step and the generator loss of the
    generator step, each computed before its own update.

    ``run_config`` is the run folder's configuration, carried along so that a model saved
    in the ``.keras`` format can become a run folder again (see ``common.export``).
    """

    def __init__(self, recipe: Recipe, fidelity="legacy", seed=0, run_config=None, **kwargs):
        super().__init__(name=kwargs.pop("name", recipe.name), **kwargs)
        self.recipe = recipe
        self.fidelity = check_fidelity(fidelity)
        self.seed = int(seed)
        self.run_config = dict(run_config or {})
        self.generator = recipe.build_generator(fidelity, recipe.z_dim)
        self.discriminator = recipe.build_discriminator(fidelity)
        # Steps taken, warm-up included: the position in the data stream and the RNG.
        self.step_counter = self.add_weight(
            shape=(), dtype="int64", initializer="zeros", trainable=False, name="step_counter",
            aggregation="only_first_replica")

    # --- configuration ---------------------------------------------------------------

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Build the optimisers' slots now, outside any tf.cond in the step.
        d_optimizer.build(self.discriminator_variables)
        g_optimizer.build(self.generator_variables)

    # --- the .keras format: config by recipe name, optimisers in the compile config ------

    def get_config(self):
        return {"name": self.name, "recipe": recipe_key(self.recipe),
                "recipe_changes": recipe_changes(self.recipe), "fidelity": self.fidelity,
                "seed": self.seed, "run_config": self.run_config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        recipe = lookup_recipe(config.pop("recipe"))
        changes = config.pop("recipe_changes", None) or {}
        changes = {key: tuple(value) if isinstance(getattr(recipe, key), tuple) else value
                   for key, value in changes.items()}
        recipe = dataclasses.replace(recipe, **changes) if changes else recipe
        for key in ("trainable", "dtype"):
            config.pop(key, None)
        return cls(recipe, **config)

    def get_compile_config(self):
        if not getattr(self, "d_optimizer", None):
            return {}
        return {"d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer)}

    def compile_from_config(self, config):
        if config:
            self.compile(d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
                         g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]))

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    @property
    def generator_variables(self):
        """The variables the generator step updates.

        Quirk Q1: the original picked G's variables by the name filter ``'g_' in name``,
        which misses batch norm's ``bnK/beta``, so those offsets were never trained. Legacy
        fidelity leaves them out the same way.
        """
        variables = self.generator.trainable_variables
        if self.fidelity == "legacy":
            variables = [v for v in variables if not v.path.endswith("/beta")]
        return variables

    @property
    def iteration(self):
        """The original's loop index ``i``: steps after the warm-up (negative during it)."""
        return int(self.step_counter.numpy()) - self.recipe.pretrain_steps

    # --- randomness --------------------------------------------------------------------

    def _stateless_seed(self, step, stream):
        # Each step owns 16 streams: z of each discriminator step, their alphas, G's z.
        return tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64) * 16 + stream])

    def latent(self, batch_size, step, stream):
        """z ~ N(0, 1), [batch, z_dim], as ``np.random.normal(0, 1, ...)`` drew it."""
        return tf.random.stateless_normal(
            [batch_size, self.recipe.z_dim], seed=self._stateless_seed(step, stream))

    def penalty_alpha(self, real, step, stream):
        """The interpolation weights of the penalty: per pixel (legacy, Q4) or per sample."""
        shape = tf.shape(real)
        if self.fidelity == "fixed":
            shape = tf.concat([shape[:1], tf.ones_like(shape[1:])], axis=0)
        return tf.random.stateless_uniform(shape, seed=self._stateless_seed(step, 8 + stream))

    # --- the two updates ---------------------------------------------------------------

    def to_model_range(self, real):
        if self.recipe.symmetric_data_when_fixed and self.fidelity == "fixed":
            return real * 2.0 - 1.0
        return real

    def discriminator_logits(self, real, fake):
        """D on the real and on the fake images, in two calls as the original made them.

        One call on both batches concatenated gives the same values, but not the same
        float32 rounding: where a gradient cancels exactly (mean(C(x)) - mean(C(G(z)))
        through a unit active on every image), the original's two separate sums give 0,
        the concatenated one a residue of ~1e-9, and Adam's first steps turn that residue
        into a step of ~0.1 learning rates. See ``common/legacy_tf1/compare.py``.
        """
        return (self.discriminator(real, training=True),
                self.discriminator(fake, training=True))

    def discriminator_loss(self, real, fake, alpha=None):
        real_logits, fake_logits = self.discriminator_logits(real, fake)
        if self.recipe.loss == "minimax":
            return losses.minimax_discriminator_loss(real_logits, fake_logits), fake_logits
        loss = losses.wasserstein_critic_loss(real_logits, fake_logits)
        norm_axes = (1, 2, 3) if self.fidelity == "fixed" else (1,)
        penalty = losses.gradient_penalty(
            lambda x: self.discriminator(x, training=True), real, fake, alpha, norm_axes)
        return loss + self.recipe.penalty_weight * penalty, fake_logits

    def generator_loss(self, fake_logits):
        if self.recipe.loss == "minimax":
            return losses.non_saturating_generator_loss(fake_logits)
        return losses.wasserstein_generator_loss(fake_logits)

    def discriminator_update(self, real, z, alpha=None):
        """One discriminator step; returns (d_loss, g_loss of the same fakes), both pre-update."""
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            loss, fake_logits = self.discriminator_loss(real, fake, alpha)
        variables = self.discriminator_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, self.generator_loss(fake_logits)

    def generator_update(self, z):
        """One generator step; returns the generator loss before the update."""
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            loss = self.generator_loss(self.discriminator(fake, training=True))
        variables = self.generator_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    # --- one iteration of the original's loop -------------------------------------------

    def train_step(self, real):
        recipe = self.recipe
        step = self.step_counter.value
        real = self.to_model_range(real)
        batch_size = tf.shape(real)[0]
        for k in range(recipe.discriminator_steps):
            z = self.latent(batch_size, step, k)
            alpha = self.penalty_alpha(real, step, k) if recipe.loss == "wasserstein" else None
            d_loss, g_loss = self.discriminator_update(real, z, alpha)
        if not recipe.share_z:
            z = self.latent(batch_size, step, recipe.discriminator_steps)
        if recipe.pretrain_steps:
            g_loss = tf.cond(step >= recipe.pretrain_steps,
                             lambda: self.generator_update(z), lambda: g_loss)
        else:
            g_loss = self.generator_update(z)
        self.step_counter.assign_add(1)
        return {"d_loss": d_loss, "g_loss": g_loss}

    # --- generation --------------------------------------------------------------------

    def generator_outputs(self, z, batch_statistics=None):
        """The generator's raw outputs for latent vectors ``z``, [N, z_dim].

        Quirk Q2: the original never updated batch norm's moving statistics and generated
        with ``phase=True``, normalising by the statistics of the z batch itself. Legacy
        fidelity does the same (all of ``z`` as one batch); fixed fidelity uses the moving
        statistics Keras kept up to date. ``batch_statistics`` overrides the choice.
        """
        if batch_statistics is None:
            batch_statistics = self.fidelity == "legacy"
        if batch_statistics:
            return self._generate_batch_stats(z)
        return self.generator(z, training=False)

    def generate(self, z, batch_statistics=None):
        """Images in [0, 1] (unclipped) for latent vectors ``z``; see :meth:`generator_outputs`."""
        return self.recipe.generator_images(self.generator_outputs(z, batch_statistics), self.fidelity)

    def _generate_batch_stats(self, z):
        # With momentum 1.0 (legacy) a training-mode call leaves the moving statistics as
        # they are; in fixed fidelity they are put back, so generating never moves them.
        if not self.recipe.batch_norm or self.fidelity == "legacy":
            return self.generator(z, training=True)
        saved = [v.numpy() for v in self.generator.non_trainable_variables]
        outputs = self.generator(z, training=True)
        for variable, value in zip(self.generator.non_trainable_variables, saved):
            variable.assign(value)
        return outputs

    def call(self, z, training=False):
        return self.generator(z, training=training)


def adam(learning_rate, beta1, beta2=0.999):
    """TF1's ``AdamOptimizer``: Keras' Adam with TF1's epsilon (1e-8; Keras defaults to 1e-7).

    Keras' update ``alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``,
    ``var -= alpha_t * m / (sqrt(v) + epsilon)`` is TF1's formula term for term.
    """
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1, beta_2=beta2, epsilon=1e-8)


def build_model(recipe: Recipe, fidelity="legacy", seed=0, learning_rate=None, **changes):
    """A compiled :class:`AdversarialModel` with the original's optimisers.

    ``changes`` replace recipe fields (``z_dim``, ``beta1``), as the original's
    constructor and ``train`` arguments allowed.
    """
    recipe = dataclasses.replace(recipe, **changes) if changes else recipe
    model = AdversarialModel(recipe, fidelity=fidelity, seed=seed)
    lr = recipe.default_learning_rate if learning_rate is None else learning_rate
    model.compile(d_optimizer=adam(lr, recipe.beta1, recipe.beta2),
                  g_optimizer=adam(lr, recipe.beta1, recipe.beta2))
    return model
