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

import keras
import tensorflow as tf

from common import distribute, losses
from common.averaging import Averages, check_decay
from common.distribute import replica_slice, replicas_in_sync
from common.optimizers import adam, loss_scaled
from common.keras_format import SavedByRecipeName
from common.recipes import Recipe, check_fidelity, check_precision

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
class AdversarialModel(SavedByRecipeName, keras.Model):
    """A generator and a discriminator trained against each other by ``fit``.

    ``compile(d_optimizer=..., g_optimizer=...)`` then ``fit(batches_of_real_images)``;
    each step returns ``{"d_loss", "g_loss"}`` as the original's summaries logged them:
    the discriminator loss of the last discriminator step and the generator loss of the
    generator step, each computed before its own update.

    ``run_config`` is the run folder's configuration, carried along so that a model saved
    in the ``.keras`` format can become a run folder again (see ``common.export``).

    ``ema_decay``: keep an exponential moving average of every generator variable
    (:attr:`ema_variables`, see :mod:`common.averaging`); None (the default) keeps none and
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
        self.ema_decay = check_decay(ema_decay)
        self.averages = Averages(self, self.ema_decay) if self.ema_decay is not None else None

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
        return self.recipe.iteration_of(int(self.step_counter.numpy()))

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

        One call on both batches together computes the same values, rounded otherwise, and
        Adam turns that residue into real steps where a gradient cancels exactly (see
        docs/fidelity.md and ``common/legacy_tf1/compare.py``); so the one call is the
        opt-in ``fused_discriminator``.
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
            if self.averages is not None:
                self.averages.update()
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
            in_warm_up = self.recipe.iteration_of(self.step_counter.numpy()) < 0
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
        if not batch_statistics:
            outputs = self.generator(z, training=False)
        elif not self.recipe.batch_norm or self.fidelity == "legacy":
            # With momentum 1.0 (legacy) a training-mode call leaves the moving statistics be.
            outputs = self.generator(z, training=True)
        else:  # fixed fidelity: put the moving statistics back, so generating never moves them
            saved = [v.numpy() for v in self.generator.non_trainable_variables]
            outputs = self.generator(z, training=True)
            for variable, value in zip(self.generator.non_trainable_variables, saved):
                variable.assign(value)
        return tf.cast(outputs, tf.float32)  # a no-op unless built for mixed precision

    def generate(self, z, batch_statistics=None):
        """Images in [0, 1] (unclipped) for latent vectors ``z``; see :meth:`generator_outputs`."""
        return self.recipe.generator_images(self.generator_outputs(z, batch_statistics), self.fidelity)

    def call(self, z, training=False):
        return tf.cast(self.generator(z, training=training), tf.float32)

    # --- the averaged generator (train --ema-decay; common/averaging.py) ----------------

    @property
    def ema_variables(self):
        """The averages of the generator's variables; [] where the model keeps none."""
        return self.averages.variables if self.averages is not None else []


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
