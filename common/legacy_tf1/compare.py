"""The port against the original, number by number.

:func:`compare` builds the original's TF1 graph (:class:`~.graphs.LegacyGraph`) and the
port's model for one recipe, gives both the same state (an original checkpoint, or the
graph's own random initialisation written through ``import-tf1``'s name map) and the same
z, real batches and penalty alphas, and measures: the state as loaded, the forward pass,
both losses and every variable's gradient, and K training iterations (every step's loss,
every variable the original's Saver writes, the outputs after training).

Why the rules are as they are: training is compared in lockstep (the port takes each step
from the original's exact state), because Adam turns last-bit rounding into full-size
steps and free-running trajectories drift apart, the original's own too. So a row passes
within its tolerance (:data:`TOLERANCES`) or within ``DRIFT_FACTOR`` times the deviation
of a nudged copy of the original (a weight tensor one ulp up), which also absorbs the
original's own session-to-session differences. A relative difference is taken against
the scale of what the quantity belongs to (a network's parameters, a loss's whole
gradient, max(|loss|, 1)), not per element. ``inert`` rows (the vanilla GAN's biases that
feed a batch norm) are reported, not judged. The full account: docs/tf1.md, on ``compare``.
"""

import dataclasses
import math
import time

import keras
import numpy as np
import tensorflow as tf

from common.adversarial import build_model
from common.errors import UserError, require
from common.naming import tf1_variables

from . import checkpoints
from .graphs import MODEL_CONFIGS, LegacyGraph

TOLERANCES = {
    "exact": ("abs", 0.0),
    "forward": ("abs", 1e-5),
    "loss": ("rel", 1e-5),
    "gradient": ("rel", 1e-4),
    "variable": ("rel", 1e-4),
}
ADJUSTABLE = ("forward", "loss", "gradient", "variable")
# Losses are measured against max(|loss|, 1): the original took logs of sigmoid outputs
# (quirk Q8), and near 1 a float32 sigmoid is resolved to 6e-8, so a loss of 2e-5 (a
# discriminator after its 30 warm-up steps) carries a rounding error of ~1e-3 of itself
# there. Below 1 the loss bound is in effect absolute.
LOSS_FLOOR = 1.0
DRIFT_FACTOR = 10.0
_TINY = float(np.finfo(np.float32).tiny)


@dataclasses.dataclass(frozen=True)
class Row:
    """One compared quantity; ``reference``: the nudged original's deviation, measured alike."""

    quantity: str
    kind: str
    max_abs: float
    scale: float
    measure: str = "rel"
    tolerance: float = 0.0
    reference: float = None

    @property
    def rel(self):
        if self.max_abs == 0:
            return 0.0
        return self.max_abs / max(self.scale, _TINY)

    @property
    def value(self):
        return self.max_abs if self.measure == "abs" else self.rel

    @property
    def judged(self):
        return self.kind != "inert"

    @property
    def ok(self):
        return (not self.judged) or (not math.isnan(self.value) and self.value <= self.tolerance)


@dataclasses.dataclass
class Report:
    model: str
    source: str
    batch_size: int
    iterations: int
    warm_up_steps: int
    free_running: bool
    rows: list
    seconds: float = 0.0

    @property
    def ok(self):
        return all(row.ok for row in self.rows)

    @property
    def failures(self):
        return [row for row in self.rows if not row.ok]

    def row(self, quantity):
        return next(r for r in self.rows if r.quantity == quantity)

    def rows_of(self, kind):
        return [r for r in self.rows if r.kind == kind]

    def worst(self, kind):
        """The row of ``kind`` with the largest measured difference (None if there is none)."""
        rows = self.rows_of(kind)
        return max(rows, key=lambda r: (math.isnan(r.value), r.value)) if rows else None

    def format(self, only_failures=False):
        rows = self.failures if only_failures else self.rows
        show_reference = any(r.reference is not None for r in rows)
        width = max([len(r.quantity) for r in rows] + [8])
        head = f"{'quantity':<{width}}  {'max abs':>9}  {'scale':>9}  {'rel':>9}  {'tolerance':>11}"
        head += "  original vs itself" if show_reference else ""
        lines = [head + "  ok"]
        for r in rows:
            tolerance = "not judged" if not r.judged else f"{r.measure} {r.tolerance:.0e}"
            line = f"{r.quantity:<{width}}  {r.max_abs:9.2e}  {r.scale:9.2e}  {r.rel:9.2e}  {tolerance:>11}"
            if show_reference:
                line += f"  {r.reference:19.2e}" if r.reference is not None else " " * 21
            lines.append(line + "  " + ("inert" if not r.judged else "ok" if r.ok else "FAIL"))
        return "\n".join(lines)

    def summary(self):
        parts = []
        for kind in TOLERANCES:
            worst = self.worst(kind)
            if worst is not None:
                parts.append(f"{kind} {worst.measure} {worst.value:.2e} ({worst.quantity})")
        verdict = "within tolerance" if self.ok else f"{len(self.failures)} quantities ABOVE tolerance"
        mode = "free-running" if self.free_running else "lockstep"
        return (f"{self.model} ({self.source}; batch {self.batch_size}, {self.warm_up_steps} warm-up "
                f"steps + {self.iterations} iterations, {mode}): {verdict}; worst per kind: "
                + "; ".join(parts))


def max_abs_difference(port, original):
    """max |a - b| (NaN where exactly one side is NaN; equal infinities count as equal)."""
    a, b = np.asarray(port), np.asarray(original)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: port {a.shape}, original {b.shape}")
    if a.size == 0:
        return 0.0
    # In the arrays' own float32: the difference of two close float32 numbers is exact.
    diff = np.abs(a - b)
    worst = float(np.max(diff))
    if math.isfinite(worst):
        return worst
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
    diff = np.where(same, 0.0, np.abs(a64 - b64))
    return float(np.max(diff)) if not np.isnan(diff).any() else math.nan


def magnitude(values):
    """max |b| over one array or a list of arrays (finite elements only)."""
    arrays = values if isinstance(values, (list, tuple)) else [values]
    best = 0.0
    for array in arrays:
        array = np.asarray(array)
        if not array.size:
            continue
        top = float(np.max(np.abs(array)))
        if not math.isfinite(top):
            finite = np.abs(array[np.isfinite(array)])
            top = float(finite.max()) if finite.size else 0.0
        best = max(best, top)
    return best


class _Table:
    def __init__(self, tolerances):
        self.tolerances = dict(TOLERANCES)
        for kind, value in (tolerances or {}).items():
            require(kind in ADJUSTABLE, f"unknown tolerance kind {kind!r}; expected one of {list(ADJUSTABLE)}")
            require(value >= 0, f"tolerance {kind}={value}: expected a number >= 0")
            self.tolerances[kind] = (TOLERANCES[kind][0], float(value))
        self.rows = []

    def allowed(self, kind, reference=None):
        """The bound for ``kind``, widened to DRIFT_FACTOR times the original's own deviation."""
        tolerance = self.tolerances.get(kind, ("rel", 0.0))[1]
        if reference is not None and kind != "exact":
            tolerance = max(tolerance, DRIFT_FACTOR * reference)
        return tolerance

    def add(self, quantity, kind, max_abs, scale, reference=None):
        measure = self.tolerances.get(kind, ("rel", 0.0))[0]
        self.rows.append(Row(quantity, kind, float(max_abs), float(scale), measure,
                             self.allowed(kind, reference), reference))

    def compare(self, quantity, kind, port, original, scale=None):
        self.add(quantity, kind, max_abs_difference(port, original),
                 magnitude(original) if scale is None else scale)

    def series(self, quantity, kind, port, original, nudged=None):
        """Losses step by step, each against its own size (at least LOSS_FLOOR); one row for
        the step that comes closest to its bound."""
        worst = None
        for index, (a, b) in enumerate(zip(port, original)):
            diff = max_abs_difference(a, b)
            scale = max(abs(float(b)), LOSS_FLOOR) if np.isfinite(b) else LOSS_FLOOR
            rel = diff / scale if diff else 0.0
            ref = None if nudged is None else max_abs_difference(nudged[index], b) / scale
            ratio = rel / max(self.allowed(kind, ref), _TINY) if rel else 0.0
            if worst is None or math.isnan(ratio) or ratio > worst[0]:
                worst = (ratio, diff, scale, ref)
        self.add(quantity, kind, worst[1], worst[2], worst[3])


# --- which variable is which ----------------------------------------------------------------


def variable_groups(model):
    """{TF1 name: group} for everything a checkpoint holds; a variable's scale is its group's."""
    groups = {}
    for label, network in (("generator", model.generator), ("discriminator", model.discriminator)):
        for name in tf1_variables(network):
            statistic = name.rsplit("/", 1)[-1].startswith("moving_")
            groups[name] = f"{label} batch-norm statistics" if statistic else f"{label} parameters"
    for name in checkpoints.tf1_state_variables(model):
        if name.endswith(("/Adam", "/Adam_1")):
            owner, slot = name.rsplit("/", 1)
            network = groups[owner].split()[0]
            groups[name] = f"{network} Adam {'m' if slot == 'Adam' else 'v'}"
    for label, pair in checkpoints.BETA_POWERS.items():
        for name in pair:
            groups[name] = f"{label} beta powers"
    return groups


def inert_variables(model):
    """TF1 names of biases a batch norm cancels (zero gradient in exact arithmetic), and their slots."""
    inert = set()
    for network in (model.generator, model.discriminator):
        names = {v.path: n for n, v in tf1_variables(network).items()}
        layers = network.layers
        for layer, following in zip(layers, layers[1:]):
            if isinstance(following, keras.layers.BatchNormalization) and getattr(layer, "bias", None) is not None:
                name = names[layer.bias.path]
                inert.update({name, f"{name}/Adam", f"{name}/Adam_1"})
    return inert


def _network_of(groups, name):
    return groups[name].split()[0]


# --- inputs ----------------------------------------------------------------------------------


def random_images(recipe, count, seed=0):
    """uint8 noise of ``recipe``'s image shape: real images where the caller has none. The
    programs give their own (``Family.default_images``: the embedded digits, drawn faces)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, *recipe.image_shape), dtype=np.uint8)


@dataclasses.dataclass(frozen=True)
class Step:
    """One optimiser step of the schedule: which network, and what it is fed."""

    network: str  # "discriminator" or "generator"
    z: np.ndarray
    real: np.ndarray = None
    alpha: np.ndarray = None


class _Inputs:
    """The random draws both sides are fed: z ~ N(0, 1), alphas ~ U(0, 1), real batches in turn."""

    def __init__(self, recipe, images, batch_size, seed):
        images = np.asarray(images)
        require(len(images) >= batch_size,
                f"{len(images)} real images for batches of {batch_size}; give more images or a smaller --batch-size")
        self.images, self.recipe, self.batch_size = images, recipe, batch_size
        self.rng = np.random.default_rng(seed)
        self.next_image = 0

    def real(self):
        index = (np.arange(self.batch_size) + self.next_image) % len(self.images)
        self.next_image = (self.next_image + self.batch_size) % len(self.images)
        batch = self.images[index]
        return batch.astype(np.float32) / 255.0 if batch.dtype == np.uint8 else batch.astype(np.float32)

    def z(self):
        return self.rng.standard_normal((self.batch_size, self.recipe.z_dim)).astype(np.float32)

    def alpha(self):
        if self.recipe.loss != "wasserstein":
            return None
        return self.rng.random((self.batch_size, *self.recipe.image_shape)).astype(np.float32)

    def schedule(self, warm_up_steps, iterations):
        """The original's loop as a list of :class:`Step` (gantrain / wgantrain / srcnn_wgan_train)."""
        recipe, steps = self.recipe, []
        for _ in range(warm_up_steps):  # GAN: each warm-up step its own z and real batch
            real = self.real()
            steps.append(Step("discriminator", self.z(), real))
        for _ in range(iterations):
            real = self.real()
            z = None
            for _ in range(recipe.discriminator_steps):
                z = self.z()
                steps.append(Step("discriminator", z, real, self.alpha()))
            if not recipe.share_z:
                z = self.z()
            steps.append(Step("generator", z, real))
        return steps


# --- the two sides -----------------------------------------------------------------------------


def _port_forward(model, z, real, alpha):
    from common import losses

    fake = model.generator(z, training=True)
    real_logits, fake_logits = model.discriminator_logits(real, fake)
    d_loss, _ = model.discriminator_loss(real, fake, alpha)
    out = {"gen": fake, "d_real_logit": real_logits, "d_fake_logit": fake_logits, "d_loss": d_loss,
           "g_loss": model.generator_loss(fake_logits)}
    if model.recipe.batch_norm:
        out["gen_phase_false"] = model.generator(z, training=False)
    if model.recipe.loss == "wasserstein":
        out["gradient_penalty"] = losses.gradient_penalty(
            lambda x: model.discriminator(x, training=True), real, fake, alpha, (1,))
    return {k: np.asarray(v) for k, v in out.items()}


def _port_gradients(model, names_of, z, real, alpha):
    """{TF1 name: gradient} as the two update methods take them, without applying them."""
    with tf.GradientTape() as tape:
        d_loss, _ = model.discriminator_loss(real, model.generator(z, training=True), alpha)
    d_vars = model.discriminator_variables
    grads = dict(zip((names_of[v.path] for v in d_vars), tape.gradient(d_loss, d_vars)))
    with tf.GradientTape() as tape:
        fake = model.generator(z, training=True)
        g_loss = model.generator_loss(model.discriminator(fake, training=True))
    g_vars = model.generator_variables
    grads.update(zip((names_of[v.path] for v in g_vars), tape.gradient(g_loss, g_vars)))
    return {name: np.asarray(g) for name, g in grads.items()}


def _legacy_step(legacy, step):
    if step.network == "discriminator":
        return legacy.d_step(step.real, step.z, step.alpha)
    return legacy.g_step(step.z, step.real)


class _PortSteps:
    """The port's two updates as ``fit`` runs them: compiled by ``tf.function``, traced once."""

    def __init__(self, model):
        self.discriminator = tf.function(
            lambda real, z, alpha: model.discriminator_update(real, model.fake_images(z), alpha))
        self.generator = tf.function(lambda z: model.generator_update(*model.generator_pass(z)))

    def __call__(self, step):
        if step.network == "discriminator":
            return float(self.discriminator(step.real, step.z, step.alpha)[0])
        return float(self.generator(step.z))


# --- the comparison ---------------------------------------------------------------------------


def compare(recipe, checkpoint=None, seed=0, batch_size=8, iterations=5, warm_up_steps=None,
            images=None, learning_rate=None, beta1=None, tolerances=None, free_running=False,
            drift_reference=True, progress=None, handled=None, default_images=None):
    """Run the original graph and the port side by side; returns a :class:`Report`.

    ``handled``: the models the calling program has, for the fix a wrong checkpoint's message names.
    ``default_images``: ``(recipe, count, seed) -> uint8 images`` where ``images`` is None
    (default: :func:`random_images`).

    ``checkpoint``: an original checkpoint both sides start from; None for the graph's
    fresh random initialisation (graph seed ``seed``). ``warm_up_steps``: the vanilla
    GAN's discriminator-only steps before the iterations (None: the recipe's 30).
    ``images``: uint8 real images (None: ``default_images``). ``free_running``:
    compare whole trajectories instead of step by step. ``drift_reference``: run a nudged
    copy of the original beside it and judge training rows against its deviation too.
    Both sides get the same arrays: no colour-order conversion here (that is
    ``import-tf1``'s business).
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    require(recipe.name in MODEL_CONFIGS,
            f"model {recipe.name!r} has no TF1 original to compare with; expected one of {sorted(MODEL_CONFIGS)}")
    original = MODEL_CONFIGS[recipe.name]
    require(recipe.z_dim == original.z_dim and tuple(recipe.image_shape) ==
            (original.height, original.width, original.channels),
            f"model {recipe.name!r} differs from the original's shapes; compare needs the original's")
    require(iterations >= 0, f"iterations must be at least 0, got {iterations}")
    warm_up = recipe.pretrain_steps if warm_up_steps is None else int(warm_up_steps)
    warm_up = warm_up if recipe.pretrain_steps else 0
    lr = recipe.default_learning_rate if learning_rate is None else float(learning_rate)
    beta1 = recipe.beta1 if beta1 is None else float(beta1)
    table = _Table(tolerances)
    if images is None:
        images = (default_images or random_images)(recipe, batch_size * (warm_up + iterations + 1), seed)
    inputs = _Inputs(recipe, images, batch_size, seed)

    say(f"building the original's {original.original_class} graph and the port's {recipe.name} model")
    model = build_model(recipe, fidelity="legacy", seed=seed, learning_rate=lr, beta1=beta1)
    expected = checkpoints.tf1_shapes(model)
    groups, inert = variable_groups(model), inert_variables(model)
    state = checkpoints.tf1_state_variables(model)
    names_of = {v.path: name for name, v in state.items() if not name.endswith(("/Adam", "/Adam_1"))}

    def kind_of(name):
        if name in inert:
            return "inert"
        return "exact" if groups[name].endswith("beta powers") else "variable"

    with LegacyGraph.build(recipe.name, batch_size=batch_size, learning_rate=lr, beta1=beta1,
                           seed=seed) as legacy:
        require(abs(legacy.beta2 - recipe.beta2) < 1e-12, f"beta2 differs: original {legacy.beta2}, port {recipe.beta2}")
        if checkpoint is not None:
            reader = checkpoints.open_checkpoint(checkpoint)
            stored = {n: tuple(s) for n, s in reader.get_variable_to_shape_map().items()}
            checkpoints.check_layout(stored, expected, recipe.name, checkpoint, reader.get_variable_to_dtype_map(),
                                     handled=handled)
            try:
                legacy.restore(checkpoints.checkpoint_prefix(checkpoint))
            except checkpoints._READ_ERRORS as exc:
                raise UserError(f"{checkpoint}: the original graph cannot restore it "
                                f"({str(exc).strip().splitlines()[0]}); the checkpoint's data file "
                                f"is incomplete or corrupt") from None
        values = legacy.variables()
        checkpoints.check_layout({n: v.shape for n, v in values.items()}, expected, recipe.name, "the original graph")
        counts = checkpoints.adam_step_counts(values, beta1, recipe.beta2)
        d_steps, g_steps = (c.exact if c.exact is not None else c.at_least
                            for c in (counts["discriminator"], counts["generator"]))
        checkpoints.load_tf1_values(model, values.__getitem__, checkpoints.TrainingPosition(
            d_steps, g_steps, g_steps, recipe.pretrain_steps + g_steps))
        loaded = checkpoints.tf1_values(model)
        mismatched = [n for n in values if max_abs_difference(loaded[n], values[n]) != 0]
        table.add(f"state as loaded: all {len(values)} variables ({len(mismatched)} differ"
                  + (f": {', '.join(mismatched[:5])}" if mismatched else "") + ")", "exact",
                  max((max_abs_difference(loaded[n], values[n]) for n in values), default=0.0), 1.0)
        del loaded

        say("forward pass, losses and gradients")
        z, real, alpha = inputs.z(), inputs.real(), inputs.alpha()
        want, got = legacy.forward(z, real, alpha), _port_forward(model, z, real, alpha)
        table.compare("generator output (batch statistics)", "forward", got["gen"], want["gen"])
        if "gen_phase_false" in got:
            table.compare("generator output (moving statistics)", "forward", got["gen_phase_false"],
                          want["gen_phase_false"])
        table.compare("discriminator logits (real)", "forward", got["d_real_logit"], want["d_real_logit"])
        table.compare("discriminator logits (generated)", "forward", got["d_fake_logit"], want["d_fake_logit"])
        for key, quantity in (("gradient_penalty", "gradient penalty"), ("d_loss", "d_loss"), ("g_loss", "g_loss")):
            if key in got:
                table.compare(quantity, "loss", got[key], want[key], max(magnitude(want[key]), LOSS_FLOOR))

        want_grads = legacy.gradients(z, real, alpha)
        got_grads = _port_gradients(model, names_of, z, real, alpha)
        if set(want_grads) != set(got_grads):
            raise AssertionError(f"the port trains other variables than the original: only the port "
                                 f"{sorted(set(got_grads) - set(want_grads))}, only the original "
                                 f"{sorted(set(want_grads) - set(got_grads))}")
        for loss, var_names in (("d_loss", legacy.d_var_names), ("g_loss", legacy.g_var_names)):
            scale = magnitude([want_grads[n] for n in var_names if n not in inert])
            for name in var_names:
                # Judged even where inert: the port's must be as close to zero as the original's.
                table.add(f"gradient of {loss} / {name}", "gradient",
                          max_abs_difference(got_grads[name], want_grads[name]), scale)

        probe_z, probe_real = z, real
        schedule = inputs.schedule(warm_up, iterations)
        port_step = _PortSteps(model)
        mode = "free-running" if free_running else "lockstep"
        say(f"{warm_up} warm-up steps and {iterations} iterations ({len(schedule)} optimiser steps), {mode}"
            + (", beside a nudged copy of the original" if drift_reference else ""))
        reference = None
        if drift_reference:
            reference = _nudged_copy(recipe.name, batch_size, lr, beta1, seed, values, nudge=free_running)
        try:
            _compare_training(table, legacy, model, reference, schedule, port_step, state, groups, kind_of,
                              free_running, f"{warm_up} warm-up steps + {iterations} iterations" if warm_up
                              else f"{iterations} iterations")
            # The networks as trained: the port's after its last step, the original's after its.
            outputs = {}
            for side, generate, discriminate in (
                    ("original", legacy.generate, lambda x: legacy.forward(probe_z, x, alpha)["d_real_logit"]),
                    ("port", lambda q: np.asarray(model.generator(q, training=True)),
                     lambda x: np.asarray(model.discriminator(x, training=True))),
                    ("nudged", reference and reference.generate,
                     reference and (lambda x: reference.forward(probe_z, x, alpha)["d_real_logit"]))):
                if generate is not None:
                    outputs[side] = {"generator": generate(probe_z), "discriminator": discriminate(probe_real)}
            for key, quantity in (("generator", "generator output after training"),
                                  ("discriminator", "discriminator logits (real) after training")):
                want = outputs["original"][key]
                ref = max_abs_difference(outputs["nudged"][key], want) if "nudged" in outputs else None
                table.add(quantity, "forward", max_abs_difference(outputs["port"][key], want), magnitude(want), ref)
        finally:
            if reference is not None:
                reference.close()

    source = checkpoint if checkpoint is not None else f"fresh random initialisation, seed {seed}"
    return Report(recipe.name, source, batch_size, iterations, warm_up, free_running, table.rows,
                  seconds=time.perf_counter() - started)


def _compare_training(table, legacy, model, reference, schedule, port_step, state, groups, kind_of,
                      free_running, label):
    """Run the schedule on both sides (and the nudged original); add the training rows.

    Lockstep: after every step each variable the step changed is compared, then the port
    (and the nudged copy) are given the original's result; the nudged copy's step starts
    from the original's state with the stepping network's largest weight tensor one ulp
    up, so its deviation measures how sensitive that very step is to one rounding.
    Free-running: both train on, compared at the end; the copy is nudged once at the start
    (in both networks) and fed every batch with its rows in reverse order, the same sums in
    another order: the port's roundings differ from the original's at every step too.
    """
    losses = {side: {"discriminator": [], "generator": []} for side in ("port", "original", "nudged")}
    worst = {}  # lockstep: name -> (rel / allowed, max abs, scale, nudged rel) at its worst step
    names = list(legacy.variable_names)
    for index, step in enumerate(schedule):
        changed = [n for n in names if _network_of(groups, n) == step.network]
        if reference is not None and not free_running:
            largest = _largest_weight(legacy, changed)
            reference.assign({largest: np.nextafter(legacy.variables([largest])[largest], np.float32(np.inf),
                                                    dtype=np.float32)})
        losses["original"][step.network].append(_legacy_step(legacy, step))
        losses["port"][step.network].append(port_step(step))
        if reference is not None:
            losses["nudged"][step.network].append(_legacy_step(reference, _rows_reversed(step) if free_running
                                                               else step))
        if free_running:
            continue
        after, port_after = legacy.variables(changed), checkpoints.tf1_values(model, changed)
        nudged_after = reference.variables(changed) if reference is not None else None
        scales = _group_scales(after, groups)
        for name in changed:
            scale = 1.0 if kind_of(name) == "exact" else scales[groups[name]]
            diff = max_abs_difference(port_after[name], after[name])
            rel = diff / max(scale, _TINY) if diff else 0.0
            ref = None
            if nudged_after is not None:
                ref = max_abs_difference(nudged_after[name], after[name]) / max(scale, _TINY)
            ratio = rel / max(table.allowed(kind_of(name), ref), _TINY) if rel else 0.0
            if name not in worst or math.isnan(ratio) or ratio > worst[name][0]:
                worst[name] = (ratio, diff, scale, ref)
        # The next step starts from the original's state, on every side. Copies: arrays a
        # session returns may share memory with its variables, and no buffer may end up
        # shared between two sides whose steps update their variables in place.
        if index + 1 < len(schedule):
            for name in changed:
                if name in state:
                    state[name].assign(np.array(after[name], copy=True))
            if reference is not None:
                reference.assign({name: np.array(value, copy=True) for name, value in after.items()})
        del after, port_after, nudged_after

    for network, loss in (("discriminator", "d_loss"), ("generator", "g_loss")):
        if losses["original"][network]:
            table.series(f"{loss} at every training step ({'free-running' if free_running else 'lockstep'})",
                         "loss", losses["port"][network], losses["original"][network],
                         losses["nudged"][network] if reference is not None else None)
    if free_running:
        final, port_after = legacy.variables(), checkpoints.tf1_values(model)
        nudged_final = reference.variables() if reference is not None else None
        scales = _group_scales(final, groups)
        for name in sorted(final):
            scale = 1.0 if kind_of(name) == "exact" else scales[groups[name]]
            ref = None
            if nudged_final is not None:
                ref = max_abs_difference(nudged_final[name], final[name]) / max(scale, _TINY)
            table.add(f"{name} after {label}", kind_of(name), max_abs_difference(port_after[name], final[name]),
                      scale, ref)
    else:
        for name in sorted(worst):
            _, diff, scale, ref = worst[name]
            table.add(f"{name}, worst step of {label}", kind_of(name), diff, scale, ref)


def _group_scales(values, groups):
    scales = {}
    for name, value in values.items():
        scales[groups[name]] = max(scales.get(groups[name], 0.0), magnitude(value))
    return scales


def _rows_reversed(step):
    """``step`` with its batch rows in reverse order: the same mean losses and gradients, rounded otherwise."""
    def reverse(rows):
        return None if rows is None else np.ascontiguousarray(np.asarray(rows)[::-1])
    return dataclasses.replace(step, z=reverse(step.z), real=reverse(step.real), alpha=reverse(step.alpha))


def _largest_weight(legacy, names):
    shapes = legacy.variable_shapes()
    weights = [n for n in names if "/Adam" not in n and "_power" not in n]
    return max(weights, key=lambda n: int(np.prod(shapes[n])))


def _nudged_copy(model_name, batch_size, lr, beta1, seed, values, nudge=True):
    """A second original with the same state; with ``nudge``, each network's largest weight
    tensor one ulp up: the port's roundings differ in both networks at every step, and a
    copy nudged in the generator alone drifts in the discriminator only through its images."""
    copy = LegacyGraph.build(model_name, batch_size=batch_size, learning_rate=lr, beta1=beta1, seed=seed)
    copy.assign({name: np.array(value, copy=True) for name, value in values.items()})
    if nudge:
        largest = [_largest_weight(copy, names) for names in (copy.d_var_names, copy.g_var_names)]
        copy.assign({name: np.nextafter(values[name], np.float32(np.inf), dtype=np.float32) for name in largest})
    return copy


__all__ = ["DRIFT_FACTOR", "TOLERANCES", "Report", "Row", "compare", "random_images",
           "inert_variables", "max_abs_difference", "variable_groups"]
