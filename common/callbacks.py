"""What happens around the training steps: samples, logs, checkpoints, stopping on NaN.

All of it follows the original's clock: iteration ``i`` counts the steps after the
discriminator-only warm-up, and sample grids appear on the original's display schedule
(:func:`is_display_iteration`).

Per iteration the monitor does no TensorFlow work of its own: the losses are kept as
Python numbers and written to TensorBoard in one compiled call every
``SCALAR_FLUSH_EVERY`` iterations (and at every sample grid, checkpoint and the end),
under their own names at the original's iteration numbers.
"""

import math
import os
import time

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.scalar import metadata as scalar_metadata

from common import images, losses
from common.errors import UserError
from common.checkpointing import NonFiniteWeights

# Not keras.callbacks.TensorBoard: it logs "batch_d_loss" in logs/train/ at its own batch
# count (the warm-up included, from 1 again at every fit), adds epoch scalars, and costs
# more per iteration than these flushes (docs/speed.md, "Writing the loss scalars").
SCALAR_FLUSH_EVERY = 100


def is_display_iteration(i, total):
    """The original's display schedule: 0, 10, ..., 100, 200, ..., 1000, 2000, ..., and the last.

    The original kept ``DISPLAY_STEP`` (10 at first) and multiplied it by ten after
    iteration 100, 1000, 10000, ...; so iteration ``i`` is shown when it is a multiple of
    the step in force, which is 10 up to 100, 100 up to 1000, and so on.
    """
    if i < 0:
        return False
    if i + 1 == total:
        return True
    every = 10
    while i > every * 10:
        every *= 10
    return i % every == 0


def display_iterations(total):
    """Every iteration of a ``total``-iteration run that gets a sample grid."""
    return [i for i in range(total) if is_display_iteration(i, total)]


class TrainingDiverged(UserError):
    """A loss, a weight or a sample became NaN or infinite; the last good checkpoints are kept."""

    exit_code = 3

    def __init__(self, message, iteration=None):
        super().__init__(message)
        self.iteration = iteration


class StopOnDivergence(keras.callbacks.TerminateOnNaN):
    """Keras' NaN stop for a GAN: every loss, the weights at each checkpoint, the sample grids.

    ``TerminateOnNaN`` looks at a ``loss`` that a GAN's logs lack (they hold ``d_loss``,
    ``g_loss``, ...), so this checks them all, and takes the other findings through
    :meth:`diverge`. It stops ``fit`` gracefully and keeps the iteration and why in
    ``diverged``; nothing after that step is saved, so the last good checkpoints stay, and
    :meth:`raise_if_diverged` ends the run with :class:`TrainingDiverged` (exit status 3).
    """

    def __init__(self):
        super().__init__(raise_error=False)
        self.diverged = None  # (iteration, why) once a loss, weight or sample is not finite

    def on_train_begin(self, logs=None):
        # Read the step counter once per fit and count in Python: reading the variable
        # after every step is a device read per iteration.
        self.next_iteration = self.model.iteration

    def on_batch_end(self, batch, logs=None):
        self.iteration = self.next_iteration  # the iteration just finished
        self.next_iteration += 1
        self.losses = {k: float(v) for k, v in (logs or {}).items()}
        if not all(math.isfinite(v) for v in self.losses.values()):
            shown = ", ".join(f"{k} {v:g}" for k, v in self.losses.items())
            self.diverge(self.iteration, f"losses ({shown}) are not finite")

    def diverge(self, iteration, why):
        self.diverged = (iteration, why)
        self.model.stop_training = True

    def other_kept_checkpoint(self):
        """A checkpoint kept outside the rotation, to name where the rotation holds none."""
        return None

    def checkpoint(self, run, manager, iteration):
        """``run.save``'s path; None, nothing written and training diverged if a weight is not finite."""
        try:
            return run.save(self.model, manager)
        except NonFiniteWeights as exc:
            self.diverge(iteration, str(exc))
            return None

    def raise_if_diverged(self, manager):
        if self.diverged is None:
            return
        i, why = self.diverged
        model = self.model
        kept = manager.latest_checkpoint or self.other_kept_checkpoint() or "none yet"
        remedy = "a lower --learning-rate"
        if not model.stable_losses and model.recipe.loss in losses.AS_WRITTEN:
            remedy = ("another --seed, --stable-losses (the original's losses as written overflow once "
                      "its discriminator saturates: quirk Q8) or a lower --learning-rate")
        where = (f"at iteration {i}" if i >= 0 else
                 f"in the warm-up, at discriminator step {model.recipe.step_of(i) + 1} of "
                 f"{model.recipe.step_of(0)}")
        raise TrainingDiverged(f"training diverged {where}: {why}; the last good checkpoint "
                               f"is kept ({kept}); start a new run with {remedy}", iteration=i)


class TrainingMonitor(StopOnDivergence):
    """Sample grids, TensorBoard scalars and images, periodic checkpoints; stops on NaN as its base.

    ``sample_z`` is fixed for the whole run so the grids show one set of digits growing up.
    """

    def __init__(self, run, manager, total_iterations, sample_z, checkpoint_every=1000,
                 checkpoint_minutes=None, max_minutes=None, sample_prefix="sample", print_fn=print,
                 pending=None):
        super().__init__()
        self.run = run
        self.manager = manager
        self.total = total_iterations
        self.sample_z = sample_z
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_minutes * 60 if checkpoint_minutes else None
        self.max_seconds = max_minutes * 60 if max_minutes else None
        self.sample_prefix = sample_prefix
        self.print = print_fn
        self.pending = pending  # a signal received (common.interrupts.Pending), or None
        self.writer = tf.summary.create_file_writer(run.logs_dir)
        self.timed_out = False
        self.started = self.last_saved = time.monotonic()
        self.written = []
        self.scalars = []  # (iteration, {name: value}) not yet written to TensorBoard
        self._write_scalars = None

    def other_kept_checkpoint(self):
        best = self.run.best_checkpoint()
        return f"the best, {best.prefix}" if best is not None else None

    def flush_scalars(self):
        """Write the buffered losses to TensorBoard (one compiled call for all of them)."""
        if not self.scalars:
            return
        names = sorted(self.scalars[0][1])
        steps = tf.constant([i for i, _ in self.scalars], tf.int64)
        values = tf.constant([[logs.get(n, math.nan) for n in names] for _, logs in self.scalars], tf.float32)
        self.scalars = []
        if self._write_scalars is None or self._write_scalars[0] != names:
            writer = self.writer

            # tf.summary.scalar's own tags would take the loop's name scope ("while/d_loss");
            # tf.summary.write with the scalar plugin's metadata writes exactly what it writes.
            metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)

            @tf.function(reduce_retracing=True)
            def write(steps, values):
                with writer.as_default():
                    for row in tf.range(tf.shape(steps)[0]):
                        for column, name in enumerate(names):
                            tf.summary.write(name, values[row, column], step=steps[row], metadata=metadata)

            self._write_scalars = (names, write)
        self._write_scalars[1](steps, values)

    @property
    def stopping(self):
        """Whether training ends before its last step: divergence, a signal or the time limit."""
        return self.diverged is not None or bool(self.pending) or self.timed_out

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)  # TerminateOnNaN's hook: on_batch_end checks the losses
        if self.diverged is not None:
            return
        i, logs = self.iteration, self.losses
        now = time.monotonic()
        if self.max_seconds and now - self.started >= self.max_seconds:
            self.timed_out = True
        if self.stopping:
            self.model.stop_training = True  # train() writes the checkpoint
        if i < 0:
            return  # the warm-up, which the original neither logged nor counted
        self.scalars.append((i, logs))
        display = is_display_iteration(i, self.total)
        done = i + 1
        checkpoint = done < self.total and not self.stopping and (
            (self.checkpoint_every and done % self.checkpoint_every == 0)
            or (self.checkpoint_seconds and now - self.last_saved >= self.checkpoint_seconds))
        if display or checkpoint or len(self.scalars) >= SCALAR_FLUSH_EVERY:
            self.flush_scalars()
        if display and not self.write_samples(i, logs):
            return self.diverge(i, "the generator's samples are not finite")
        if checkpoint and self.checkpoint(self.run, self.manager, i) is not None:
            self.last_saved = time.monotonic()

    def write_samples(self, i, logs):
        """Write iteration ``i``'s sample grid; False (and nothing written) if it is not finite."""
        generated = np.asarray(self.model.generate(self.sample_z))
        if not np.all(np.isfinite(generated)):
            return False
        path = os.path.join(self.run.samples_dir, f"{self.sample_prefix}_{i}_epoch.png")
        rows = int(math.sqrt(len(generated)))
        images.save_grid(generated, path, rows=rows, cols=int(math.ceil(len(generated) / rows)))
        with self.writer.as_default(step=i):
            tf.summary.image("samples", images.make_grid(images.to_uint8(generated))[None], step=i)
        self.written.append(path)
        losses = "  ".join(f"{k} {v:.5g}" for k, v in logs.items())
        self.print(f"\niteration {i}: {losses}  -> {path}")
        return True

    def on_train_end(self, logs=None):
        self.flush_scalars()
        self.writer.flush()
