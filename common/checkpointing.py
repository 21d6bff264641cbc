"""A run's checkpoints: writing them (only finite ones), keeping the best one, and reading
back the newest that loads, forgiving of what a crash or a full disk leaves.

:class:`Checkpointing` is the part of :class:`common.run.RunFolder` that handles the files
under ``checkpoints/`` and ``best/``; the folder itself (its layout, its settings) is
:mod:`common.run`. Checkpoints come from ``tf.train.CheckpointManager`` (its index is
replaced after the data files are complete), and only after every variable is checked
finite, so a diverged run never rotates its last good checkpoints out. A new best
checkpoint is written beside the old one, named in ``config.json``, and only then is the
old one removed. A checkpoint that does not load is skipped (and said so), a lost index is
rebuilt from the files present, and where none fits the network ``config.json`` describes,
``config.json`` is named, not the checkpoints.
"""

import dataclasses
import gc
import json
import logging
import math
import os
import re
import shutil

import numpy as np
import tensorflow as tf

from common.errors import UserError, require

KEEP_CHECKPOINTS = 3
# --checkpoint values besides an iteration number; "auto": the best checkpoint if the run
# keeps one, else the latest.
CHECKPOINT_CHOICES = ("auto", "best", "latest")
_CHECKPOINT_FILE = re.compile(r"^ckpt-(\d+)\.index$")
# How TensorFlow words a checkpoint tensor whose shape the model's variable does not have:
# a network other than the one config.json describes (a renamed object is another failure).
_MISSHAPED = "Received incompatible tensor with shape"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One checkpoint in a run folder: its global step (warm-up included) and file prefix."""

    step: int
    prefix: str


class Checkpointing:
    """The checkpoint files of a run folder; a base of :class:`common.run.RunFolder`, whose
    ``path``, ``config``, ``recipes``, ``checkpoint_dir``, ``best_dir``, ``config_path``,
    ``build_model`` and ``save_config`` it uses."""

    def best_checkpoint(self):
        """The run's best :class:`Checkpoint` as config.json records it (files present or not), or None."""
        best = self.config.best
        if best is None:
            return None
        return Checkpoint(best["step"], os.path.join(self.best_dir, f"ckpt-{best['step']}"))

    # --- creation and opening ------------------------------------------------------------

    @staticmethod
    def checkpoint_of(model):
        """What a checkpoint holds; the averages only where the model keeps them, so every
        other run's checkpoints are as they always were."""
        parts = dict(generator=model.generator, discriminator=model.discriminator,
                     step_counter=model.step_counter,
                     d_optimizer=model.d_optimizer, g_optimizer=model.g_optimizer)
        if model.ema_variables:
            parts["ema_generator"] = list(model.ema_variables)
        return tf.train.Checkpoint(**parts)

    # --- writing checkpoints ---------------------------------------------------------------

    def manager(self, model, max_to_keep=KEEP_CHECKPOINTS):
        self.rebuild_index()
        return tf.train.CheckpointManager(self.checkpoint_of(model), self.checkpoint_dir,
                                          max_to_keep=max_to_keep, step_counter=model.step_counter)

    def save(self, model, manager=None):
        """Write a checkpoint at the model's current step and record it in config.json.

        Raises :class:`NonFiniteWeights` instead of writing a checkpoint with a NaN or an
        infinity in any variable or optimiser slot.
        """
        bad = non_finite_variables(model)
        if bad:
            raise NonFiniteWeights(bad, max(model.iteration, 0))
        manager = manager or self.manager(model)
        try:
            path = manager.save(checkpoint_number=int(model.step_counter.numpy()))
            self.config.steps_done = max(model.iteration, 0)
            self.config.global_step = int(model.step_counter.numpy())
            self.save_config()
        except (tf.errors.OpError, OSError) as exc:  # a full disk, a folder gone or made read-only
            for leftover in os.listdir(self.checkpoint_dir) if os.path.isdir(self.checkpoint_dir) else ():
                if leftover.endswith("_temp"):  # what the interrupted save wrote so far
                    shutil.rmtree(os.path.join(self.checkpoint_dir, leftover), ignore_errors=True)
            kept = manager.latest_checkpoint or "none yet"
            reason = getattr(exc, "strerror", None) or re.sub(
                r"\s*\[Op:\w+\]", "", str(getattr(exc, "message", exc))).strip().rsplit("; ", 1)[-1][:200]
            raise UserError(f"{self.checkpoint_dir}: cannot write the checkpoint of iteration "
                            f"{max(model.iteration, 0)} ({reason}); the last checkpoint is kept ({kept}). "
                            f"Make room, then run the same command with --resume") from None
        return path

    def offer_best(self, model, scores):
        """Keep the model as the run's best checkpoint if ``scores["frechet_distance"]`` is the
        lowest so far (and finite, as every weight must be); returns whether it was kept.

        The new files are written first, then config.json names them, then the old best is
        removed: a crash at any moment leaves config.json naming a complete checkpoint.
        """
        distance = scores.get("frechet_distance")
        if distance is None or not math.isfinite(distance):
            return False
        if self.config.best is not None and distance >= self.config.best["frechet_distance"]:
            return False
        if non_finite_variables(model):
            return False
        step = int(model.step_counter.numpy())
        os.makedirs(self.best_dir, exist_ok=True)
        prefix = os.path.join(self.best_dir, f"ckpt-{step}")
        checkpoint = self.checkpoint_of(model)
        checkpoint.save_counter  # noqa: B018 -- created, so it is written and a restore matches it
        checkpoint.write(prefix)
        recorded = {key: float(value) for key, value in scores.items()
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)}
        self.config.best = {**recorded, "iteration": max(model.iteration, 0), "step": step}
        self.save_config()
        for name in os.listdir(self.best_dir):
            if not name.startswith(f"ckpt-{step}."):
                os.remove(os.path.join(self.best_dir, name))
        return True

    # --- reading checkpoints ---------------------------------------------------------------

    def checkpoints(self):
        """Every checkpoint whose files are present, oldest first (the index file aside)."""
        return checkpoint_files(self.checkpoint_dir)

    def rebuild_index(self):
        """Make the ``checkpoint`` index name the files present if it is missing or names none of them."""
        present = self.checkpoints()
        if not present:
            return
        state = tf.train.get_checkpoint_state(self.checkpoint_dir)
        named = set(state.all_model_checkpoint_paths) if state else set()
        if any(os.path.basename(p) in {os.path.basename(c.prefix) for c in present} for p in named):
            return
        tf.compat.v1.train.update_checkpoint_state(self.checkpoint_dir, present[-1].prefix,
                                         [c.prefix for c in present[-KEEP_CHECKPOINTS:]])

    def restore(self, model, which="latest", expect_partial=False, print_fn=print):
        """Load a checkpoint into ``model``: ``which`` is ``latest`` (the newest that loads,
        else the best), ``best``, ``auto`` (the best if the run keeps one, else the latest)
        or an iteration.

        A checkpoint whose files are damaged is skipped with a message saying why; one with
        non-finite weights is refused (:class:`UserError`) naming the newest good one; where
        every checkpoint reads back whole but none fits the model, ``config.json`` is blamed,
        not the checkpoints. Returns the loaded :class:`Checkpoint`, or None where the run has none.
        """
        recipe = model.recipe
        best = self.best_checkpoint()
        if which == "best":
            require(best is not None, f"{self.path}: keeps no best checkpoint (train --eval-every N keeps "
                                      f"one); pass --checkpoint latest or an iteration")
        candidates = list(reversed(self.checkpoints()))
        if which in ("auto", "best") and best is not None:
            candidates = [best] + ([] if which == "best" else candidates)
        elif which == "latest" and best is not None:
            candidates.append(best)  # checkpoints/ lost or all damaged: the best is a whole checkpoint too
        elif which not in CHECKPOINT_CHOICES:
            wanted = recipe.step_of(int(which))
            candidates = [c for c in candidates if c.step == wanted]
            if not candidates and best is not None and best.step == wanted:
                candidates = [best]  # rotated out of checkpoints/, kept as the best
            require(candidates, f"{self.path}: no checkpoint at iteration {which}; it has "
                                f"{self.describe_iterations(recipe) or 'none'}")
        skipped = []
        for candidate in candidates:
            problem = self._load(model, candidate, expect_partial)
            if problem is not None:
                skipped.append((candidate, problem))
                continue
            self._report_skipped(skipped, best, print_fn)
            self._refuse_non_finite(model, candidate)
            if candidate == best:
                why = {"auto": " (--checkpoint latest for the newest)",
                       "latest": f" (no checkpoint in {self.checkpoint_dir} loads)"}.get(which, "")
                print_fn(f"using the best checkpoint: iteration {self.config.best['iteration']}, Frechet "
                         f"distance {self.config.best['frechet_distance']:.6g}{why}")
            return candidate
        if not skipped:
            return None
        if all(_MISSHAPED in problem for _, problem in skipped):
            raise UserError(self._mismatch(model, skipped[0][0], expect_partial))
        if which not in ("latest", "auto"):  # the one checkpoint asked for
            raise UserError(f"{skipped[0][0].prefix}: {skipped[0][1]}")
        self._report_skipped(skipped, None, print_fn)
        raise UserError(f"{self.path}: none of its checkpoints loads (see above)")

    @staticmethod
    def _report_skipped(skipped, best, print_fn):
        for candidate, problem in skipped:
            if candidate == best:
                print_fn(f"skipping the best checkpoint {candidate.prefix}: {problem}; using the latest")
            else:
                print_fn(f"skipping {candidate.prefix}: {problem}")

    def _mismatch(self, model, candidate, expect_partial):
        """Why every checkpoint's files read back but none fits the model: the run's
        ``config.json`` describes another network; names the keys that would fit, if any."""
        config, recipes = self.config, self.recipes or {model.recipe.name: model.recipe}
        keys = config.NETWORK_KEYS

        def fits(values):
            trial = type(self)(self.path, dataclasses.replace(config, recipe_changes=None, **values), recipes)
            return trial._load(trial.build_model(recipes), candidate, expect_partial) is None

        described = ", ".join(f"{key} {json.dumps(getattr(config, key))}" for key in keys)
        fitting = next((values for values in config.network_alternatives(recipes) if fits(values)), None)
        if fitting is None:
            return (f"{self.config_path}: describes a network ({described}) that none of the run's "
                    f"checkpoints fits, though their files read back whole; was config.json edited? Put back "
                    f"the values the run was trained with (the checkpoints are whole: keep them)")
        changed = ", ".join(f'"{key}": {json.dumps(value)}' for key, value in fitting.items()
                            if getattr(config, key) != value)
        return (f"{self.config_path}: describes a network ({described}) that the run's checkpoints do not "
                f"hold; they hold one with {changed}. Was config.json edited? Put back {changed} "
                f"(the checkpoints are whole: keep them)")

    def _load(self, model, candidate, expect_partial):
        """Restore ``candidate`` into ``model``; None, or why it cannot be used."""
        problem = checkpoint_problem(candidate.prefix)
        if problem is None:
            _filter_unrestored_warnings()
            try:
                status = self.checkpoint_of(model).restore(candidate.prefix)
                # Every variable of the model must come from the checkpoint (a renamed one
                # would keep its random start); values the model does not use may be left.
                status.assert_existing_objects_matched()
                if expect_partial:
                    status.expect_partial()
            except (tf.errors.OpError, ValueError, AssertionError, IndexError) as exc:
                problem = f"does not load ({exc.__class__.__name__}: {_first_line(exc)})"
            if problem is not None:
                gc.collect()  # the failed attempt's objects go now, not after the error is printed
        return problem

    def _refuse_non_finite(self, model, candidate):
        bad = non_finite_variables(model)
        if bad:
            good = self.newest_finite(below=candidate.step)
            iteration = model.recipe.iteration_of(good.step) if good else None
            hint = (f"iteration {iteration} ({good.prefix}) is the newest good one: pass "
                    f"--checkpoint {iteration}" if good else "no older checkpoint is finite")
            raise UserError(f"{candidate.prefix} holds non-finite weights ({len(bad)} tensors, e.g. "
                            f"{bad[0]}): the run diverged; {hint}")

    def newest_finite(self, below):
        for candidate in reversed(self.checkpoints()):
            if candidate.step < below and checkpoint_problem(candidate.prefix, finite=True) is None:
                return candidate
        return None

    def describe_iterations(self, recipe):
        described = [f"iteration {recipe.iteration_of(c.step)}" for c in self.checkpoints()]
        if self.config.best is not None:
            described.append(f"the best, iteration {self.config.best['iteration']}")
        return ", ".join(described)


class NonFiniteWeights(Exception):
    """A checkpoint would hold NaN or infinite values: training diverged."""

    def __init__(self, names, iteration):
        self.names, self.iteration = names, iteration
        super().__init__(f"non-finite values in {len(names)} variable(s), e.g. {names[0]}")


class _UnrestoredValuesFilter(logging.Filter):
    """Drops TensorFlow's "unrestored values" warnings about a checkpoint that did not fit.

    Every restore here is checked (``assert_existing_objects_matched``) and a failure is
    reported in one line; TensorFlow would add a dozen warnings per failed attempt when the
    checkpoint object is collected, after the line that explains them.
    """

    def filter(self, record):
        message = record.getMessage()
        return not (message.startswith("Value in checkpoint could not be found in the restored object")
                    or message.startswith("Detecting that an object or model or tf.train.Checkpoint is being "
                                          "deleted with unrestored values"))


def _filter_unrestored_warnings():
    logger = tf.get_logger()
    if not any(isinstance(f, _UnrestoredValuesFilter) for f in logger.filters):
        logger.addFilter(_UnrestoredValuesFilter())


def checkpoint_files(folder):
    if not os.path.isdir(folder):
        return []
    found = [Checkpoint(int(m.group(1)), os.path.join(folder, f"ckpt-{m.group(1)}"))
             for m in map(_CHECKPOINT_FILE.match, os.listdir(folder)) if m]
    return sorted(found, key=lambda c: c.step)


def _first_line(exc):
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no message"


def checkpoint_problem(prefix, finite=False):
    """Why the checkpoint at ``prefix`` cannot be used, or None: every tensor is read back.

    ``finite``: a NaN or infinity in a float tensor is a problem too.
    """
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            value = reader.get_tensor(name)
            if finite and isinstance(value, np.ndarray) and value.dtype.kind == "f" \
                    and not np.all(np.isfinite(value)):
                return f"non-finite values in {name}"
    except Exception as exc:  # a truncated or missing data file, a corrupt index: all mean "skip it"
        return f"damaged ({exc.__class__.__name__}: {_first_line(exc)})"
    return None


def non_finite_variables(model):
    """Paths of the model's variables and optimiser slots that hold a NaN or an infinity."""
    variables = [*model.generator.variables, *model.discriminator.variables,
                 *model.d_optimizer.variables, *model.g_optimizer.variables, *model.ema_variables]
    bad = []
    for variable in variables:
        value = np.asarray(variable)
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            bad.append(getattr(variable, "path", variable.name))
    return bad
