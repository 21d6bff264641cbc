"""What happens around the training steps: samples, logs, checkpoints, stopping on NaN.

All of it follows the original's clock: iteration ``i`` counts the steps after the
discriminator-only warm-up, and sample grids appear on the original's display schedule
(:func:`is_display_iteration`).
"""

import math
import os

import keras
import numpy as np
import tensorflow as tf

from common import images


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


class TrainingMonitor(keras.callbacks.Callback):
    """Sample grids, TensorBoard scalars and images, periodic checkpoints, NaN stops.

    ``sample_z`` is fixed for the whole run so the grids show one set of digits growing up.
    """

    def __init__(self, run, manager, total_iterations, sample_z, checkpoint_every=1000,
                 sample_prefix="sample", print_fn=print):
        super().__init__()
        self.run = run
        self.manager = manager
        self.total = total_iterations
        self.sample_z = sample_z
        self.checkpoint_every = checkpoint_every
        self.sample_prefix = sample_prefix
        self.print = print_fn
        self.writer = tf.summary.create_file_writer(run.logs_dir)
        self.diverged = None
        self.written = []

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        i = model.iteration - 1  # the iteration just finished
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not all(math.isfinite(v) for v in logs.values()):
            # Keep the last good checkpoint: nothing after this step is saved.
            self.diverged = (i, logs)
            model.stop_training = True
            return
        if i < 0:
            return  # the warm-up, which the original neither logged nor counted
        with self.writer.as_default(step=i):
            for name, value in logs.items():
                tf.summary.scalar(name, value)
        if is_display_iteration(i, self.total):
            self.write_samples(i, logs)
        done = i + 1
        if self.checkpoint_every and done % self.checkpoint_every == 0 and done < self.total:
            self.run.save(model, self.manager)

    def write_samples(self, i, logs):
        generated = np.asarray(self.model.generate(self.sample_z))
        path = os.path.join(self.run.samples_dir, f"{self.sample_prefix}_{i}_epoch.png")
        rows = int(math.sqrt(len(generated)))
        images.save_grid(generated, path, rows=rows, cols=int(math.ceil(len(generated) / rows)))
        with self.writer.as_default(step=i):
            tf.summary.image("samples", images.make_grid(images.to_uint8(generated))[None], step=i)
        self.written.append(path)
        losses = "  ".join(f"{k} {v:.5g}" for k, v in logs.items())
        self.print(f"\niteration {i}: {losses}  -> {path}")

    def on_train_end(self, logs=None):
        self.writer.flush()
