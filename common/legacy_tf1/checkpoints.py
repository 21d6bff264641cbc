"""Checkpoints of the original TF1 code <-> run folders of the port.

The original saved its models with ``tf.train.Saver(tf.all_variables())``: one flat,
name-keyed checkpoint holding, for every model variable ``NAME``,

* the variable itself (``g_w1``, ``discriminator/d_w3``, ``bn2/moving_mean``...);
* the two Adam slots of every variable its optimiser trained: ``NAME/Adam`` (the first
  moment m) and ``NAME/Adam_1`` (the second moment v);
* each optimiser's two beta powers. ``train()`` built D's optimiser first, so D's are
  ``beta1_power``/``beta2_power`` and G's ``beta1_power_1``/``beta2_power_1``.

The port keeps the same numbers in Keras objects: layers named by
:func:`common.naming.tf1_variables`, slots in the Keras Adams' momentum and velocity
lists, and, instead of beta powers, a step count ``iterations`` per optimiser. This
module is the one translation between the two, in both directions:

* :func:`tf1_state_variables` / :func:`tf1_values`: TF1 name -> Keras variable / value,
  for a built :class:`~common.adversarial.AdversarialModel`;
* :func:`check_layout`: does a checkpoint hold exactly what a model needs? Every
  missing, unexpected and mis-shaped variable is named in one :class:`UserError`;
* :func:`recover_adam_steps`: the Adam step counts from the beta powers;
* :func:`import_tf1_checkpoint` / :func:`export_tf1_checkpoint`: the CLI's
  ``import-tf1`` and ``export-tf1``.

Beta powers and step counts
---------------------------
TF1's Adam starts ``beta1_power`` at ``float32(beta1)`` and after every update
multiplies it, in float32, by beta1; after ``t`` updates it holds beta1^(t+1), rounded
once per multiplication, and TensorFlow's CPU and GPU kernels flush results below the
smallest normal float32 (1.2e-38) to zero. Keras' Adam keeps ``t`` and computes
``beta1 ** (t+1)`` when it needs it. :func:`beta_power` replays TF1's float32 sequence,
so ``t`` is recovered by an exact table look-up and written back bit for bit.

The sequence reaches zero: after about 830 updates for beta 0.9, 126 for 0.5 and 87,000
for 0.999. Past that point the checkpoint no longer says how many steps were taken (and
Adam's bias correction no longer depends on it: both sides then use 1 - 0 = 1). A GAN
trained for the original's 10,000 iterations still has a readable ``beta2_power``
(0.999); a WGAN trained for 500,000 has only zeros, and ``import-tf1 --iterations N``
must say what ``train_epochs`` was.

The run folder's ``step_counter`` counts the port's training steps: for the vanilla GAN
the 30 warm-up steps plus the iterations (= the discriminator's updates in a gantrain
run), for the WGANs the iterations (= the generator's updates; the critic took 5 per
iteration). Each Keras optimiser gets its own exact count, so Adam continues exactly
where the TF1 run stopped.
"""

import dataclasses
import functools
import os
import re

import keras
import numpy as np
import tensorflow as tf

from common.adversarial import build_model
from common.errors import UserError, require
from common.files import write_atomically
from common.run import CONFIG
from common.naming import tf1_variables

# {optimiser: (beta1_power name, beta2_power name)}, in the order the original made them.
BETA_POWERS = {"discriminator": ("beta1_power", "beta2_power"),
               "generator": ("beta1_power_1", "beta2_power_1")}

_SMALLEST_NORMAL = np.finfo(np.float32).tiny
_CHECKPOINT_SUFFIX = re.compile(r"\.(index|meta|data-\d{5}-of-\d{5})$")
# Written by tf.train.Checkpoint (object-based): the port's own run checkpoints.
_OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
# What tf.train.load_checkpoint and its reader raise for missing, truncated or corrupt files.
_READ_ERRORS = (tf.errors.OpError, ValueError, IndexError, RuntimeError)


# --- what a model looks like under TF1 names ------------------------------------------------


def _optimisers(model):
    """(label, Keras Adam, the variables it trains) for D, then G.

    A loss-scaling wrapper (mixed float16 runs) is looked through: its inner Adam holds
    the slots and the step count.
    """
    return tuple((label, getattr(optimizer, "inner_optimizer", optimizer), variables)
                 for label, optimizer, variables in (
                     ("discriminator", model.d_optimizer, model.discriminator_variables),
                     ("generator", model.g_optimizer, model.generator_variables)))


def tf1_state_variables(model):
    """{TF1 name: Keras variable} for every weight, BN statistic and Adam slot of ``model``.

    The beta powers are not Keras variables (Keras keeps step counts); see :func:`tf1_values`.
    """
    names = {}
    names.update(tf1_variables(model.generator))
    names.update(tf1_variables(model.discriminator))
    by_path = {variable.path: name for name, variable in names.items()}
    # Keras 3's Adam keeps its slots in two lists indexed like the variables it was built
    # for; TF1 named the first moment NAME/Adam and the second NAME/Adam_1.
    for _, optimizer, variables in _optimisers(model):
        for variable in variables:
            index = optimizer._get_variable_index(variable)
            owner = by_path[variable.path]
            names[f"{owner}/Adam"] = optimizer._momentums[index]
            names[f"{owner}/Adam_1"] = optimizer._velocities[index]
    return names


def tf1_shapes(model):
    """{TF1 name: shape} of everything a checkpoint of ``model`` holds, beta powers included."""
    shapes = {name: tuple(variable.shape) for name, variable in tf1_state_variables(model).items()}
    shapes.update({name: () for pair in BETA_POWERS.values() for name in pair})
    return shapes


def adam_steps(model):
    """{"discriminator": t, "generator": t}: the updates each Keras Adam has made."""
    return {label: int(optimizer.iterations.numpy()) for label, optimizer, _ in _optimisers(model)}


def tf1_values(model, names=None):
    """{TF1 name: float32 array}: what the original's Saver would write for ``model`` now.

    ``names`` limits the result to those names (default: everything).
    """
    wanted = None if names is None else set(names)
    values = {name: np.asarray(variable.numpy(), dtype=np.float32)
              for name, variable in tf1_state_variables(model).items()
              if wanted is None or name in wanted}
    steps = adam_steps(model)
    for label, optimizer, _ in _optimisers(model):
        for name, beta in zip(BETA_POWERS[label], (optimizer.beta_1, optimizer.beta_2)):
            if wanted is None or name in wanted:
                values[name] = beta_power(beta, steps[label])
    return values


# --- beta powers <-> step counts -----------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _power_table(beta):
    """TF1's beta power after 0, 1, 2, ... updates, up to and including the first zero."""
    beta = np.float32(beta)
    require(0.0 < beta < 1.0, f"Adam beta {beta} outside (0, 1)")
    values = [beta]
    while values[-1] != 0:
        nxt = values[-1] * beta  # float32 times float32: one rounding, as TF1's Mul
        values.append(nxt if nxt >= _SMALLEST_NORMAL else np.float32(0.0))  # flush to zero
    return np.array(values, dtype=np.float32)


def beta_power(beta, steps):
    """The float32 value TF1's ``betaK_power`` holds after ``steps`` Adam updates."""
    table = _power_table(float(np.float32(beta)))
    return table[min(int(steps), len(table) - 1)].copy()


def underflow_steps(beta):
    """The first step count at which TF1's beta power has reached zero."""
    return len(_power_table(float(np.float32(beta)))) - 1


@dataclasses.dataclass(frozen=True)
class StepCount:
    """What a beta power says about a step count: exactly ``exact``, or at least ``at_least``."""

    exact: int = None
    at_least: int = 0

    def combine(self, other):
        """Both constraints at once; None when they contradict each other."""
        if self.exact is not None and other.exact is not None:
            return self if self.exact == other.exact else None
        if self.exact is not None or other.exact is not None:
            known, bound = (self, other) if self.exact is not None else (other, self)
            return known if known.exact >= bound.at_least else None
        return StepCount(at_least=max(self.at_least, other.at_least))


def steps_from_power(power, beta):
    """The :class:`StepCount` a stored beta power implies; None if it is no power of ``beta``."""
    power = np.float32(power)
    if not np.isfinite(power) or power < 0:
        return None
    if power < _SMALLEST_NORMAL:  # zero, or a denormal from a device that does not flush
        return StepCount(at_least=underflow_steps(beta))
    matches = np.flatnonzero(_power_table(float(np.float32(beta))) == power)
    return StepCount(exact=int(matches[0])) if len(matches) else None


def recover_adam_steps(stored, beta1, beta2, label):
    """(StepCount, problem) for one optimiser from its two stored beta powers."""
    beta1_name, beta2_name = BETA_POWERS[label]
    p1, p2 = np.float32(stored[beta1_name]), np.float32(stored[beta2_name])
    from_beta1, from_beta2 = steps_from_power(p1, beta1), steps_from_power(p2, beta2)
    if from_beta2 is None:
        return None, (f"{beta2_name} = {p2!r} is not a power of beta2 {np.float32(beta2)!r} "
                      f"(the original's {label} Adam)")
    if from_beta1 is None:
        hint = ""
        if from_beta2.exact is not None and p1 > 0:
            hint = f"; it fits beta1 = {float(p1) ** (1.0 / (from_beta2.exact + 1)):.4g}: pass --beta1"
        return None, (f"{beta1_name} = {p1!r} is not a power of beta1 {np.float32(beta1)!r} "
                      f"(the original's {label} Adam){hint}")
    combined = from_beta1.combine(from_beta2)
    if combined is None:
        return None, (f"{beta1_name} = {p1!r} and {beta2_name} = {p2!r} disagree on the "
                      f"{label} Adam's step count ({_describe(from_beta1)} vs {_describe(from_beta2)})")
    return combined, None


def _describe(count):
    return f"{count.exact} steps" if count.exact is not None else f"at least {count.at_least} steps"


@dataclasses.dataclass(frozen=True)
class TrainingPosition:
    """Where a TF1 run stopped, in the port's counts."""

    discriminator_steps: int  # Adam updates of D (warm-up included)
    generator_steps: int  # Adam updates of G
    iterations: int  # the original's loop index after the run: train_epochs
    step_counter: int  # the port's steps: warm-up + iterations
    notes: tuple = ()


def adam_step_counts(stored, beta1, beta2):
    """{"discriminator": StepCount, "generator": StepCount} from the four stored beta powers."""
    found, problems = {}, []
    for label in BETA_POWERS:
        count, problem = recover_adam_steps(stored, beta1, beta2, label)
        found[label] = count
        if problem:
            problems.append(problem)
    if problems:
        raise UserError("the checkpoint's Adam beta powers do not fit this model's optimisers: "
                        + "; ".join(problems))
    return found


def training_position(recipe, stored, beta1, beta2, iterations=None):
    """Recover a :class:`TrainingPosition` from a checkpoint's four beta powers.

    ``iterations`` (the original's ``train_epochs``) is needed only where the powers have
    underflowed to zero; where they still tell, it must agree with them.
    """
    found = adam_step_counts(stored, beta1, beta2)
    d_count, g_count = found["discriminator"], found["generator"]
    notes = []
    if g_count.exact is not None:
        g_steps = g_count.exact
        require(iterations is None or iterations == g_steps,
                f"--iterations {iterations} contradicts the checkpoint: its generator Adam made "
                f"{g_steps} updates ({BETA_POWERS['generator'][0]} = {stored[BETA_POWERS['generator'][0]]!r}); "
                f"leave --iterations out")
    else:
        require(iterations is not None,
                f"the checkpoint does not record how many iterations the TF1 run trained: its "
                f"generator Adam's beta powers have underflowed to 0, which happens after "
                f"{g_count.at_least} updates; pass --iterations N with the run's train_epochs")
        require(iterations >= g_count.at_least,
                f"--iterations {iterations} is too few: the generator Adam's beta powers are 0, "
                f"which takes at least {g_count.at_least} updates")
        g_steps = iterations
    expected_d = recipe.discriminator_steps * g_steps + (recipe.pretrain_steps if g_steps else 0)
    if d_count.exact is not None:
        d_steps = d_count.exact
        if d_steps != expected_d and g_steps:
            notes.append(f"the discriminator made {d_steps} updates where the original's loop "
                         f"makes {expected_d} for {g_steps} iterations; both are kept as they are")
    else:
        d_steps = max(expected_d, d_count.at_least)
    if g_steps:
        step_counter = recipe.pretrain_steps + g_steps
    else:  # only discriminator steps so far: they were the warm-up
        step_counter = min(d_steps, recipe.pretrain_steps)
    return TrainingPosition(d_steps, g_steps, g_steps, step_counter, tuple(notes))


# --- reading and checking checkpoints -----------------------------------------------------------


def checkpoint_prefix(path):
    """The prefix of a checkpoint named by its prefix, one of its files, or its folder."""
    path = os.fspath(path)
    return _CHECKPOINT_SUFFIX.sub("", path) if not os.path.isdir(path) else path


def _port_run_folder(path):
    """The port's run folder that ``path`` is or lies in (up to two levels down), or None."""
    folder = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    for candidate in (folder, os.path.dirname(folder), os.path.dirname(os.path.dirname(folder))):
        if os.path.isfile(os.path.join(candidate, CONFIG)):
            return candidate
    return None


def _refuse_port_checkpoint(path, run):
    raise UserError(f"{path}: " + (f"the port's run folder {run} or one of its checkpoints" if run else
                                   "an object-based TF2 checkpoint, written by the port")
                    + ", not one of the original's tf.train.Saver checkpoints: it needs no import. "
                    f"generate, export and evaluate take it as --run {run or 'RUN_DIR'}, train --resume as "
                    f"--out {run or 'RUN_DIR'}; export-tf1 --run {run or 'RUN_DIR'} writes it as a "
                    f"checkpoint of the original")


def open_checkpoint(path):
    """A ``tf.train.load_checkpoint`` reader of one of the original's checkpoints; UserError
    when nothing readable is there, or when it is the port's own (a run folder's)."""
    prefix = checkpoint_prefix(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except _READ_ERRORS as exc:
        run = _port_run_folder(path)
        if run is not None:
            _refuse_port_checkpoint(path, run)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise UserError(f"{path}: no readable TF1 checkpoint ({first}); give the prefix the "
                        f"original's saver.save() returned, e.g. model/gan for model/gan.index and "
                        f"model/gan.data-00000-of-00001") from None
    if reader.has_tensor(_OBJECT_GRAPH_KEY):
        _refuse_port_checkpoint(path, _port_run_folder(path))
    return reader


def guess_original_model(names):
    """Which of the original's three models a set of checkpoint keys comes from (or None)."""
    names = set(names)
    if "discriminator/d_w2_2" in names or "generator/g_w7" in names:
        return "face"
    if "g_w1" in names or "bn1/beta" in names:
        return "gan"
    if "generator/g_w1" in names:
        return "wgan"
    return None


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def check_layout(stored_shapes, expected_shapes, model_name, where, stored_dtypes=None, handled=None):
    """UserError naming every missing, unexpected and mis-shaped variable; None if all fit.
    ``handled``: the models the calling program has (a --model it can be told to use)."""
    missing = [n for n in expected_shapes if n not in stored_shapes]
    unexpected = sorted(n for n in stored_shapes if n not in expected_shapes)
    misshaped = [n for n in expected_shapes
                 if n in stored_shapes and tuple(stored_shapes[n]) != tuple(expected_shapes[n])]
    wrong_type = [n for n in expected_shapes if stored_dtypes and n in stored_dtypes
                  and n not in misshaped and stored_dtypes[n] != tf.float32]
    if not (missing or unexpected or misshaped or wrong_type):
        return
    if _OBJECT_GRAPH_KEY in stored_shapes:
        _refuse_port_checkpoint(where, None)
    parts = []
    if missing:
        parts.append(f"missing {len(missing)}: " + ", ".join(
            f"{n} {_shape_text(expected_shapes[n])}" for n in missing))
    if misshaped:
        parts.append(f"mis-shaped {len(misshaped)}: " + ", ".join(
            f"{n} {_shape_text(stored_shapes[n])} (expected {_shape_text(expected_shapes[n])})"
            for n in misshaped))
    if wrong_type:
        parts.append(f"not float32 {len(wrong_type)}: " + ", ".join(
            f"{n} {stored_dtypes[n].name}" for n in wrong_type))
    if unexpected:
        parts.append(f"unexpected {len(unexpected)}: " + ", ".join(
            f"{n} {_shape_text(stored_shapes[n])}" for n in unexpected))
    guess = guess_original_model(stored_shapes)
    if guess and guess != model_name and (handled is None or guess in handled):
        fix = f"it looks like a checkpoint of the original's {guess!r} model: pass --model {guess}"
    elif guess and guess != model_name:
        fix = (f"it looks like a checkpoint of the original's {guess!r} model, which the other program "
               f"handles ({'genface' if guess == 'face' else 'genmnist'})")
    else:
        fix = "give a checkpoint that the original's train() saved for this model"
    raise UserError(f"{where}: not a checkpoint of the original's {model_name!r} model: "
                    + "; ".join(parts) + f". Fix: {fix}")


# --- colour order ----------------------------------------------------------------------------


def colour_axes(model):
    """{TF1 name: axis} of the variables with an axis over image colour channels.

    The original read its colour images with ``cv2.imread``, so its faces model was
    trained on BGR pixels and generates BGR pixels; the port reads and generates RGB
    (quirk Q7). Reversing the channel axis of the generator's last layer (its output)
    and of the critic's first layer (its input), Adam slots included, makes an original
    checkpoint compute the same faces in the port's RGB, exactly: a permutation, undone
    by the same reversal on the way back. Empty for one-channel models.
    """
    if model.recipe.image_shape[-1] != 3:
        return {}
    axes = {}
    generator_names = {v.path: n for n, v in tf1_variables(model.generator).items()}
    critic_names = {v.path: n for n, v in tf1_variables(model.discriminator).items()}
    last = [layer for layer in model.generator.layers if getattr(layer, "kernel", None) is not None][-1]
    first = [layer for layer in model.discriminator.layers if getattr(layer, "kernel", None) is not None][0]
    # Kernel layouts: Conv2D (h, w, in, out); Conv2DTranspose (h, w, out, in).
    if isinstance(last, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
        out_axis = 2 if isinstance(last, keras.layers.Conv2DTranspose) else 3
        axes[generator_names[last.kernel.path]] = out_axis
        if last.bias is not None:
            axes[generator_names[last.bias.path]] = 0
    if isinstance(first, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
        in_axis = 3 if isinstance(first, keras.layers.Conv2DTranspose) else 2
        axes[critic_names[first.kernel.path]] = in_axis
    for name, axis in list(axes.items()):
        axes[f"{name}/Adam"] = axes[f"{name}/Adam_1"] = axis
    return axes


def swap_colour_order(values_or_getter, axes):
    """BGR <-> RGB: the same reversal of the colour axis in both directions.

    Takes a {name: array} dict (returns a new dict) or a ``get(name)`` function
    (returns a wrapped function).
    """
    def swap(name, value):
        return np.ascontiguousarray(np.flip(value, axes[name])) if name in axes else value

    if callable(values_or_getter):
        return lambda name: swap(name, values_or_getter(name))
    return {name: swap(name, value) for name, value in values_or_getter.items()}


# --- loading values into the port -------------------------------------------------------------


def load_tf1_values(model, get_value, position):
    """Set every weight, statistic and slot of ``model`` from ``get_value(tf1_name)``, and its
    step counts from ``position``. The names must have been checked with :func:`check_layout`."""
    for name, variable in tf1_state_variables(model).items():
        # A copy: arrays read from a session may share memory with its variables.
        variable.assign(np.array(get_value(name), dtype=np.float32, copy=True))
    optimisers = {label: optimizer for label, optimizer, _ in _optimisers(model)}
    optimisers["discriminator"].iterations.assign(position.discriminator_steps)
    optimisers["generator"].iterations.assign(position.generator_steps)
    model.step_counter.assign(position.step_counter)


def _tensor_reader(reader, where):
    """``reader.get_tensor`` whose failures (a truncated or corrupt data file) are UserErrors."""
    def get(name):
        try:
            return reader.get_tensor(name)
        except _READ_ERRORS as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise UserError(f"{where}: variable {name} cannot be read ({first}); the checkpoint's "
                            f"data file is incomplete or corrupt: copy it again from where the "
                            f"original run saved it") from None
    return get


def _recipe_for(recipes, model_name, where, guessed):
    if model_name is None:
        require(guessed is not None,
                f"{where}: cannot tell which of the original's models wrote this checkpoint; "
                f"pass --model ({', '.join(sorted(recipes))})")
        model_name = guessed
    require(model_name in recipes,
            f"{where}: a checkpoint of the original's {model_name!r} model; this program handles "
            f"{sorted(recipes)} (the faces model is imported with genface, the MNIST ones with genmnist)")
    return recipes[model_name]


def _generator_z_dim(model, stored_shapes):
    """The z_dim a checkpoint's first generator kernel implies (the original's z_dim argument)."""
    first = next(iter(tf1_variables(model.generator).items()))
    name, variable = first
    stored = stored_shapes.get(name)
    if stored is not None and len(stored) == 2 and len(variable.shape) == 2 \
            and stored[1] == variable.shape[1] and stored[0] != variable.shape[0] and stored[0] > 0:
        return int(stored[0])
    return model.recipe.z_dim


def import_tf1_checkpoint(path, recipes, out, model_name=None, iterations=None, seed=None,
                          batch_size=None, learning_rate=None, beta1=None, data=None, print_fn=print):
    """``import-tf1``: an original TF1 checkpoint into a new run folder.

    Returns ``(RunFolder, TrainingPosition)``.

    Weights, batch-norm statistics, Adam slots and step counts are carried over, so
    ``train --resume`` continues the TF1 run's Adam where it stopped. The run is
    "legacy" fidelity: the original's math, which the checkpoint was trained under.
    """
    from common.run import RunFolder
    from common.settings import RunConfig, absolute_data_path, random_seed

    reader = open_checkpoint(path)
    prefix = checkpoint_prefix(path)
    stored_shapes = {name: tuple(shape) for name, shape in reader.get_variable_to_shape_map().items()}
    stored_dtypes = reader.get_variable_to_dtype_map()
    recipe = _recipe_for(recipes, model_name, path, guess_original_model(stored_shapes))
    seed = seed if seed is not None else random_seed()
    beta1 = recipe.beta1 if beta1 is None else beta1
    learning_rate = recipe.default_learning_rate if learning_rate is None else learning_rate

    model = build_model(recipe, fidelity="legacy", seed=seed, learning_rate=learning_rate, beta1=beta1)
    z_dim = _generator_z_dim(model, stored_shapes)
    if z_dim != recipe.z_dim:
        print_fn(f"the checkpoint's generator takes z of {z_dim} values (the original's z_dim argument)")
        model = build_model(recipe, fidelity="legacy", seed=seed, learning_rate=learning_rate,
                            beta1=beta1, z_dim=z_dim)
    check_layout(stored_shapes, tf1_shapes(model), recipe.name, path, stored_dtypes, handled=recipes)
    powers = {name: _tensor_reader(reader, path)(name) for pair in BETA_POWERS.values() for name in pair}
    position = training_position(recipe, powers, beta1, recipe.beta2, iterations)
    axes = colour_axes(model)
    load_tf1_values(model, swap_colour_order(_tensor_reader(reader, path), axes), position)

    config = RunConfig(
        model=recipe.name, fidelity="legacy", z_dim=z_dim, image_shape=tuple(recipe.image_shape), seed=seed,
        batch_size=batch_size or recipe.default_batch_size, learning_rate=learning_rate, beta1=beta1,
        data=absolute_data_path(data), steps=max(position.iterations, 1),
        imported_from=os.path.abspath(prefix),
        imported_adam_steps={"discriminator": position.discriminator_steps,
                             "generator": position.generator_steps},
        imported_colour_order="bgr, reversed to the port's rgb" if axes else None)
    run = RunFolder.create(out, config)
    run.save(model)
    for note in position.notes:
        print_fn(f"note: {note}")
    return run, position


# --- writing checkpoints the original restores ---------------------------------------------------


def write_tf1_checkpoint(values, prefix):
    """Write ``{name: array}`` as a name-based (``tf.train.Saver``-layout) checkpoint.

    Also points the folder's ``checkpoint`` file at it, as ``Saver.save`` did, so
    ``tf.train.latest_checkpoint(folder)`` finds it.
    """
    folder = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(folder, exist_ok=True)
    names = sorted(values)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[np.asarray(values[n], dtype=np.float32) for n in names])
    # The folder's state file, in the text format Saver.save wrote (relative path).
    name = os.path.basename(prefix).replace("\\", "\\\\").replace('"', '\\"')
    write_atomically(os.path.join(folder, "checkpoint"), lambda handle: handle.write(
        f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n'))
    return prefix


def export_tf1_checkpoint(run_dir, recipes, prefix, overwrite=False, which="latest"):
    """``export-tf1``: a run folder's newest checkpoint as the original's Saver checkpoint."""
    from common.run import RunFolder

    run = RunFolder.open(run_dir, recipes)
    require(run.config.fidelity == "legacy",
            f"{run_dir}: a fixed-fidelity run (quirks Q1-Q5 corrected); the original's TF1 graph "
            f"computes the legacy math, in which these weights do not mean the same; export-tf1 "
            f"takes legacy-fidelity runs")
    name = os.path.basename(prefix)
    require(name and not os.path.isdir(prefix),
            f"--out {prefix}: a folder; give a checkpoint prefix in it, such as "
            f"{os.path.join(prefix, 'model')} (for {os.path.join(prefix, 'model')}.index and .data-00000-of-00001)")
    require(overwrite or not os.path.exists(prefix + ".index"),
            f"{prefix}.index already exists; choose another --out or pass --overwrite")
    model = run.load_model(recipes, expect_partial=False, which=which)
    write_tf1_checkpoint(swap_colour_order(tf1_values(model), colour_axes(model)), prefix)
    return prefix, model


__all__ = [
    "BETA_POWERS", "TrainingPosition", "adam_step_counts", "adam_steps", "beta_power",
    "check_layout", "colour_axes", "swap_colour_order",
    "checkpoint_prefix", "export_tf1_checkpoint", "guess_original_model",
    "import_tf1_checkpoint", "load_tf1_values", "open_checkpoint", "recover_adam_steps",
    "steps_from_power", "tf1_shapes", "tf1_state_variables", "tf1_values",
    "training_position", "underflow_steps", "write_tf1_checkpoint",
]
