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

Speed without changing a number (GitHub issue 8): the vanilla GAN's generator step reuses
the generator pass of its discriminator step (same z, same weights: the original computed
it twice); both optimisers update through TF1's own fused ``ApplyAdam`` kernel
(``common/optimizers.py``). Opt-in, named and recorded in the run's config: mixed precision
(``precision``), XLA (``jit_compile``) and one discriminator call on the real and the
generated batch together (``fused_discriminator``), each of which changes the rounding.

Many devices (``tf.distribute``): each replica gets a slice of the global batch, draws the
GLOBAL z and penalty alphas and keeps its own slice of them, and scales its loss by
1/replicas before the optimiser sums the gradients over replicas; so N replicas compute
what one device computes on the global batch (see ``common/distribute.py``).
"""

import contextlib
import dataclasses
import functools
import importlib
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from common import batch_norm, distribute, losses
from common.distribute import replica_slice, replicas_in_sync
from common.optimizers import adam, loss_scaled

FIDELITIES = ("legacy", "fixed")
# The averaged generator's batch-norm statistics come from this many samples of it
# (see AdversarialModel.use_averaged_weights), drawn from this seed.
AVERAGED_STATISTICS_SAMPLES = 5_000
AVERAGED_STATISTICS_SEED = 0
# The compute precisions a model can be built with (Keras dtype policies). Variables stay
# float32 in all of them; the mixed ones compute layers in 16 bits, losses in float32.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that makes one of the original's models different from the others."""

    name: str
    z_dim: int
    image_shape: tuple
    build_generator: Callable
    build_discriminator: Callable
    loss: str  # a key of losses.ADVERSARIAL_LOSSES: "minimax", "wasserstein" or "hinge"
    discriminator_steps: int
    pretrain_steps: int
    share_z: bool  # the generator step reuses the last discriminator step's z
    default_steps: int
    default_batch_size: int
    default_learning_rate: float
    beta1: float
    beta2: float = 0.999
    penalty_weight: float = 0.0  # of the WGAN-GP gradient penalty; 0: no penalty
    r1_weight: float = 0.0  # gamma of the R1 penalty on real images (losses.r1_penalty); 0: none
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


def check_ema_decay(decay):
    if decay is None:
        return None
    decay = float(decay)
    if not 0.0 < decay < 1.0:
        raise ValueError(f"ema_decay must lie strictly between 0 and 1, got {decay}")
    return decay


def require_averages(model):
    if not model.ema_variables:
        raise ValueError(f"model {model.name!r} keeps no averaged generator (built without ema_decay)")


def check_precision(precision):
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return precision


@contextlib.contextmanager
def dtype_policy(precision):
    """Layers created inside compute in ``precision`` (a Keras dtype policy name)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(check_precision(precision))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@keras.saving.register_keras_serializable(package="gan_port")
class AdversarialModel(keras.Model):
    """A generator and a discriminator trained against each other by ``fit``.

    ``compile(d_optimizer=..., g_optimizer=...)`` then ``fit(batches_of_real_images)``;
    each step returns ``{"d_loss", "g_loss"}`` as the original's summaries logged them:
    the discriminator loss of the last discriminator step and the generator loss of the
    generator step, each computed before its own update.

    ``run_config`` is the run folder's configuration, carried along so that a model saved
    in the ``.keras`` format can become a run folder again (see ``common.export``).

    ``ema_decay``: keep an exponential moving average of every generator variable
    (:attr:`ema_variables`, see :meth:`update_average`); None (the default) keeps none and
    leaves the step exactly as it was.

    ``stable_losses``: compute the minimax losses from logits (Q8 corrected); always so in
    fixed fidelity. Legacy fidelity's default takes the log of sigmoid outputs as the
    original did (``losses.AS_WRITTEN``).
    """

    def __init__(self, recipe: Recipe, fidelity="legacy", seed=0, run_config=None, precision="float32",
                 fused_discriminator=False, ema_decay=None, stable_losses=False, **kwargs):
        super().__init__(name=kwargs.pop("name", recipe.name), **kwargs)
        self.recipe = recipe
        self.fidelity = check_fidelity(fidelity)
        self.stable_losses = self.fidelity == "fixed" or bool(stable_losses)
        self.discriminator_loss_function, self.generator_loss_function = losses.adversarial_losses(
            recipe.loss, stable=self.stable_losses)
        self.seed = int(seed)
        self.run_config = dict(run_config or {})
        # Speed options (issue 8); the defaults compute exactly what the original computed.
        self.precision = check_precision(precision)
        self.fused_discriminator = bool(fused_discriminator)
        with dtype_policy(self.precision):
            self.generator = recipe.build_generator(fidelity, recipe.z_dim)
            self.discriminator = recipe.build_discriminator(fidelity)
        # Steps taken, warm-up included: the position in the data stream and the RNG.
        self.step_counter = self.add_weight(
            shape=(), dtype="int64", initializer="zeros", trainable=False, name="step_counter",
            aggregation="only_first_replica")
        # Both networks are built (from their Input); saying so keeps Keras, under a
        # tf.distribute strategy, from building this model by calling it on a data batch
        # (a batch of images, where ``call`` takes latent vectors).
        self.built = True
        self.ema_decay = check_ema_decay(ema_decay)
        self.ema_variables = self._make_averages() if self.ema_decay is not None else []

    # --- configuration ---------------------------------------------------------------

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        if self.precision == "mixed_float16":
            # float16 gradients underflow without loss scaling (bfloat16 has float32's range).
            d_optimizer = loss_scaled(d_optimizer)
            g_optimizer = loss_scaled(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Build the optimisers' slots now, not while a step function is traced.
        d_optimizer.build(self.discriminator_variables)
        g_optimizer.build(self.generator_variables)

    # --- the .keras format: config by recipe name, optimisers in the compile config ------

    def get_config(self):
        config = {"name": self.name, "recipe": recipe_key(self.recipe),
                  "recipe_changes": recipe_changes(self.recipe), "fidelity": self.fidelity,
                  "seed": self.seed, "run_config": self.run_config}
        # Written only when not the default, so default configs read as they always did.
        if self.precision != "float32":
            config["precision"] = self.precision
        if self.fused_discriminator:
            config["fused_discriminator"] = True
        if self.ema_decay is not None:
            config["ema_decay"] = self.ema_decay
        if self.stable_losses and self.fidelity == "legacy":
            config["stable_losses"] = True
        return config

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
            d_optimizer = keras.saving.deserialize_keras_object(config["d_optimizer"])
            g_optimizer = keras.saving.deserialize_keras_object(config["g_optimizer"])
            self.compile(d_optimizer=getattr(d_optimizer, "inner_optimizer", d_optimizer),
                         g_optimizer=getattr(g_optimizer, "inner_optimizer", g_optimizer))

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
        """z ~ N(0, 1), [batch, z_dim], as ``np.random.normal(0, 1, ...)`` drew it.

        Under a multi-replica strategy ``batch_size`` is the replica's share: the z of the
        whole global batch is drawn and the replica keeps its rows (:func:`replica_slice`).
        """
        replicas = replicas_in_sync()
        z = tf.random.stateless_normal(
            [batch_size * replicas, self.recipe.z_dim], seed=self._stateless_seed(step, stream))
        return z if replicas == 1 else replica_slice(z, batch_size)

    def penalty_alpha(self, real, step, stream):
        """The interpolation weights of the penalty: per pixel (legacy, Q4) or per sample."""
        shape = tf.shape(real)
        if self.fidelity == "fixed":
            shape = tf.concat([shape[:1], tf.ones_like(shape[1:])], axis=0)
        replicas = replicas_in_sync()
        if replicas > 1:  # the global batch's alphas; this replica's rows (as for z)
            shape = tf.concat([shape[:1] * replicas, shape[1:]], axis=0)
        alpha = tf.random.stateless_uniform(shape, seed=self._stateless_seed(step, 8 + stream))
        return alpha if replicas == 1 else replica_slice(alpha, tf.shape(real)[0])

    # --- the two updates ---------------------------------------------------------------

    def to_model_range(self, real):
        if self.recipe.symmetric_data_when_fixed and self.fidelity == "fixed":
            return real * 2.0 - 1.0
        return real

    def fake_images(self, z):
        """G(z) in training mode, as float32 (under mixed precision G computes in 16 bits)."""
        return tf.cast(self.generator(z, training=True), tf.float32)

    def critic(self, images):
        """D's logits (critic scores) in training mode, as float32: losses stay float32."""
        return tf.cast(self.discriminator(images, training=True), tf.float32)

    def discriminator_logits(self, real, fake):
        """D on the real and on the fake images, in two calls as the original made them.

        One call on both batches concatenated gives the same values, but not the same
        float32 rounding: where a gradient cancels exactly (mean(C(x)) - mean(C(G(z)))
        through a unit active on every image), the original's two separate sums give 0,
        the concatenated one a residue of ~1e-9, and Adam's first steps turn that residue
        into a step of ~0.1 learning rates. See ``common/legacy_tf1/compare.py``. So the
        one call is an opt-in (``fused_discriminator``): one larger batch for the
        convolutions and half the per-call overhead.
        """
        if self.fused_discriminator:
            logits = self.critic(tf.concat([real, fake], axis=0))
            return logits[:tf.shape(real)[0]], logits[tf.shape(real)[0]:]
        return self.critic(real), self.critic(fake)

    @property
    def has_penalty(self):
        return self.recipe.penalty_weight > 0

    def discriminator_loss(self, real, fake, alpha=None):
        fake = tf.cast(fake, tf.float32)  # G's raw outputs are 16-bit under mixed precision
        if self.recipe.r1_weight:  # D's slope on the real images, for the R1 penalty
            with tf.GradientTape() as slope_tape:
                slope_tape.watch(real)
                real_logits = self.critic(real)
            fake_logits = self.critic(fake)
        else:
            real_logits, fake_logits = self.discriminator_logits(real, fake)
        loss = self.discriminator_loss_function(real_logits, fake_logits)
        if self.recipe.r1_weight:
            r1 = losses.r1_penalty(slope_tape.gradient(real_logits, real))
            loss = loss + 0.5 * self.recipe.r1_weight * r1
        if self.has_penalty:
            norm_axes = (1, 2, 3) if self.fidelity == "fixed" else (1,)
            penalty = losses.gradient_penalty(self.critic, real, fake, alpha, norm_axes)
            loss = loss + self.recipe.penalty_weight * penalty
        return loss, fake_logits

    def generator_loss(self, fake_logits):
        return self.generator_loss_function(fake_logits)

    def _objective(self, loss, optimizer):
        """What is differentiated for ``loss``: the replica's share, loss-scaled for float16.

        Each replica's loss is the mean over its slice of the global batch; the optimiser
        SUMS the replicas' gradients, so dividing by the number of replicas makes that sum
        the gradient of the global mean. One replica: ``loss`` itself, untouched.
        """
        replicas = replicas_in_sync()
        if replicas > 1:
            loss = loss / replicas
        return optimizer.scale_loss(loss)

    def generator_pass(self, z):
        """G(z) recorded on a tape of its own: ``(fake, tape)``, for :meth:`generator_update`."""
        with tf.GradientTape() as tape:
            fake = self.fake_images(z)
        return fake, tape

    def discriminator_update(self, real, fake, alpha=None):
        """One discriminator step; returns (d_loss, g_loss of the same fakes), both pre-update."""
        with tf.GradientTape() as tape:
            loss, fake_logits = self.discriminator_loss(real, fake, alpha)
            objective = self._objective(loss, self.d_optimizer)
        variables = self.discriminator_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(objective, variables), variables))
        return loss, self.generator_loss(fake_logits)

    def generator_update(self, fake, tape):
        """One generator step on ``fake``, a G pass recorded on ``tape`` (:meth:`generator_pass`);
        returns the generator loss before the update."""
        with tape:  # resumes recording after G's pass
            loss = self.generator_loss(self.critic(fake))
            objective = self._objective(loss, self.g_optimizer)
        variables = self.generator_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(objective, variables), variables))
        return loss

    @property
    def reuses_generator_pass(self):
        """Whether the generator step reuses the last discriminator step's G(z).

        The original ran G twice on the same z with the same weights (the vanilla GAN). The
        discriminator update leaves G alone, so the first pass, kept on its tape, gives the
        second's gradient op for op. Not in fixed fidelity, whose batch norm moves its
        moving statistics on every pass, twice per iteration as the original's would have.
        """
        return self.recipe.share_z and (not self.recipe.batch_norm or self.fidelity == "legacy")

    # --- one iteration of the original's loop -------------------------------------------

    def train_step(self, real, warm_up=False):
        """One iteration: ``discriminator_steps`` D updates, then one G update (none in the warm-up)."""
        recipe, step = self.recipe, self.step_counter.value
        real = self.to_model_range(real)
        batch_size = tf.shape(real)[0]
        for k in range(recipe.discriminator_steps):
            z = self.latent(batch_size, step, k)
            alpha = self.penalty_alpha(real, step, k) if self.has_penalty else None
            fake, tape = self.generator_pass(z)
            d_loss, g_loss = self.discriminator_update(real, fake, alpha)
        if not warm_up:
            if not recipe.share_z:
                z = self.latent(batch_size, step, recipe.discriminator_steps)
            if not self.reuses_generator_pass:  # else the last D step's G(z), on its tape
                fake, tape = self.generator_pass(z)
            g_loss = self.generator_update(fake, tape)
            if self.ema_variables:
                self.update_average()
        self.step_counter.assign_add(1)
        return distribute.logs_for_keras({"d_loss": d_loss, "g_loss": g_loss})

    def make_train_function(self, force=False):
        """Keras' training function; with a warm-up, one traced step per phase.

        Each call runs the step of the phase the step counter is in. (A ``tf.cond`` on the
        counter inside one step cannot hold an optimiser update under a multi-replica
        strategy: the update synchronises the replicas.)
        """
        if self.train_function is not None and not force:
            return self.train_function
        if not self.recipe.pretrain_steps:
            return super().make_train_function(force=force)
        if self.steps_per_execution > 1:
            raise ValueError("a model with a warm-up trains one step per call (steps_per_execution=1)")
        warm_up_step = self._make_function(functools.partial(self.train_step, warm_up=True))
        full_step = self._make_function(self.train_step)

        def train_function(iterator):
            in_warm_up = self.step_counter.numpy() < self.recipe.pretrain_steps
            return (warm_up_step if in_warm_up else full_step)(iterator)

        self.train_function = train_function
        return train_function

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
            outputs = self._generate_batch_stats(z)
        else:
            outputs = self.generator(z, training=False)
        return tf.cast(outputs, tf.float32)  # a no-op unless built for mixed precision

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
        return tf.cast(self.generator(z, training=training), tf.float32)

    # --- the averaged generator (train --ema-decay) -------------------------------------

    def _make_averages(self):
        """One float32 average per generator variable, batch-norm statistics included,
        starting at the generator's own initial values.

        Non-trainable, and ``only_first_replica``: under ``tf.distribute`` every replica
        computes the same average from the same (mirrored) weights, so the first one's is
        written to all.
        """
        averages = []
        for index, variable in enumerate(self.generator.variables):
            average = self.add_weight(shape=variable.shape, dtype=variable.dtype, initializer="zeros",
                                      trainable=False, name=f"ema_{index}", aggregation="only_first_replica")
            average.assign(variable)
            averages.append(average)
        return averages

    def update_average(self):
        """``ema = decay * ema + (1 - decay) * w`` for every generator variable.

        Called after each generator update (so not during the vanilla GAN's warm-up). In
        legacy fidelity batch norm's offsets and moving statistics never change (quirks Q1,
        Q2), so their averages stay equal to them, and the averaged generator normalises by
        batch statistics as the raw one does: only the trained weights are averaged.
        """
        decay = self.ema_decay
        for average, variable in zip(self.ema_variables, self.generator.variables):
            average.assign(decay * average + (1.0 - decay) * variable)

    def use_averaged_weights(self):
        """Put the averages into the generator for good (generate, export, evaluate).

        In fixed fidelity batch norm normalises by moving statistics, and the average of a
        layer's moving statistics is not the statistics of the averaged weights before it
        (it gave digits no classifier could read). So the averaged generator's statistics
        are estimated from its own samples (:mod:`common.batch_norm`), from fixed z: the
        same checkpoint always gives the same generator. In legacy fidelity the generator
        normalises by batch statistics and needs none.
        """
        require_averages(self)
        for variable, average in zip(self.generator.variables, self.ema_variables):
            variable.assign(average)
        if self.fidelity == "fixed" and batch_norm.batch_norm_layers(self.generator):
            z = np.random.default_rng(AVERAGED_STATISTICS_SEED).standard_normal(
                (AVERAGED_STATISTICS_SAMPLES, self.recipe.z_dim)).astype(np.float32)
            batch_norm.reestimate_batch_norm(self.generator, z)

    @contextlib.contextmanager
    def averaged_generator(self):
        """Inside the block the generator holds the averages; after it, its own weights again."""
        require_averages(self)
        own = [variable.numpy() for variable in self.generator.variables]
        self.use_averaged_weights()
        try:
            yield self.generator
        finally:
            for variable, value in zip(self.generator.variables, own):
                variable.assign(value)


def build_model(recipe: Recipe, fidelity="legacy", seed=0, learning_rate=None, precision="float32",
                jit_compile="auto", fused_discriminator=False, ema_decay=None, stable_losses=False,
                **changes):
    """A compiled :class:`AdversarialModel` with the original's optimisers.

    ``changes`` replace recipe fields (``z_dim``, ``beta1``), as the original's
    constructor and ``train`` arguments allowed. ``precision``, ``jit_compile`` and
    ``fused_discriminator`` are the speed options of issue 8 (defaults: the original's
    float32 math, and Keras' "auto" XLA choice, which is off on machines without a GPU).
    ``ema_decay``: keep an averaged generator, ``stable_losses``: Q8 corrected (see
    :class:`AdversarialModel`).
    """
    recipe = dataclasses.replace(recipe, **changes) if changes else recipe
    model = AdversarialModel(recipe, fidelity=fidelity, seed=seed, precision=precision,
                             fused_discriminator=fused_discriminator, ema_decay=ema_decay,
                             stable_losses=stable_losses)
    lr = recipe.default_learning_rate if learning_rate is None else learning_rate
    model.compile(d_optimizer=adam(lr, recipe.beta1, recipe.beta2),
                  g_optimizer=adam(lr, recipe.beta1, recipe.beta2), jit_compile=jit_compile)
    return model
