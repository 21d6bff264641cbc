"""The one training loop: a run folder, a data stream and ``fit``.

Used by the command line and by the original-API facades alike. With a ``tf.distribute``
strategy (``train --strategy``; see :mod:`common.distribute`) the model is built in its
scope and the stream is dealt to its replicas.
"""

import contextlib
import sys

import keras

from common import data, distribute, interrupts
from common.callbacks import TrainingDiverged, TrainingMonitor  # noqa: F401 (train raises TrainingDiverged)
from common.errors import require
from common.latents import sample_latents
from common.settings import MAX_STEPS

SAMPLE_GRID = 64  # the original's 8x8 sample grids


class TrainingInterrupted(Exception):
    """SIGINT or SIGTERM during training; a checkpoint of the last finished step was written."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.exit_code = 128 + signum


class Progress(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, ended where training ended: on an early stop (``--max-minutes``,
    a signal, divergence) Keras fills the bar to the full count and divides the time by it
    ("50000/50000 - 72ms/step" after 1,605 steps of 2.2 s)."""

    def _finalize_progbar(self, logs):
        if self.model.stop_training and self.target is not None and self.seen < self.target:
            self.target = self.progbar.target = self.seen
        super()._finalize_progbar(logs)


def fit_steps(model, images, batch_size, seed, start, count, strategy=None, callbacks=(), verbose=0,
              reshuffle=True):
    """``fit`` the model for ``count`` steps from step ``start`` of the data stream.

    Under a multi-replica ``strategy`` the stream is dealt to the replicas.
    """
    if strategy is None:
        stream = data.batches(images, batch_size, seed, start_step=start, steps=count, reshuffle=reshuffle)
    else:
        stream = distribute.distributed_batches(strategy, images, batch_size, seed, start_step=start, steps=count,
                                                reshuffle=reshuffle)
    callbacks = list(callbacks) + ([Progress()] if verbose else [])
    model.fit(stream, epochs=1, steps_per_epoch=count, callbacks=callbacks, verbose=verbose, shuffle=False)


def train(run, recipes, images, steps, resume=False, checkpoint_every=1000, checkpoint_minutes=10.0,
          max_minutes=None, verbose="auto", print_fn=print, callbacks=(), strategy=None):
    """Train the run's model to ``steps`` iterations (warm-up not counted); returns the model.

    With ``resume`` the newest checkpoint that loads is restored and training continues
    from its step, with the optimisers' state, the data stream and the random draws
    exactly where an uninterrupted run would have them. A checkpoint is written every
    ``checkpoint_every`` iterations and ``checkpoint_minutes`` minutes, at the end, and on
    SIGINT/SIGTERM (then :class:`TrainingInterrupted`); ``max_minutes`` ends the run
    early, cleanly. ``strategy``: a ``tf.distribute`` strategy, or None for the default device.
    """
    config = run.config
    require(1 <= steps <= MAX_STEPS, f"--steps must be in 1..{MAX_STEPS}, got {steps}")
    replicas = distribute.replicas(strategy)
    require(config.batch_size % replicas == 0,
            f"--batch-size {config.batch_size} does not split evenly over {replicas} replicas; "
            f"choose a multiple of {replicas}")
    keras.utils.set_random_seed(config.seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = run.build_model(recipes)
    recipe = model.recipe
    if resume:
        loaded = run.restore(model, print_fn=print_fn)
        require(loaded is not None, f"{run.path}: nothing to resume, the run has no checkpoint yet; "
                                    f"start it again without --resume")
        print_fn(f"resuming from {loaded.prefix} (iteration {max(model.iteration, 0)})")
    manager = run.manager(model)
    total = recipe.step_of(steps)
    start = int(model.step_counter.numpy())
    remaining = total - start
    config.steps = steps
    run.save_config()
    if remaining <= 0:
        print_fn(f"{run.path}: already trained {max(model.iteration, 0)} iterations; "
                 f"pass a larger --steps to train on")
        return model
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    with interrupts.deferred() as pending:
        monitor = TrainingMonitor(run, manager, steps, sample_latents(SAMPLE_GRID, recipe.z_dim, config.seed),
                                  checkpoint_every=checkpoint_every, checkpoint_minutes=checkpoint_minutes,
                                  max_minutes=max_minutes, sample_prefix=recipe.sample_prefix,
                                  print_fn=print_fn, pending=pending)
        fit_steps(model, images, config.batch_size, config.seed, start, remaining, strategy=strategy,
                  callbacks=[monitor, *callbacks], verbose=verbose, reshuffle=config.reshuffle)
        monitor.flush_scalars()
        if monitor.diverged is None:
            path = monitor.checkpoint(run, manager, max(model.iteration - 1, 0))
        monitor.raise_if_diverged(manager)
        done = max(model.iteration, 0)
        if pending:
            raise TrainingInterrupted(f"stopped by {pending.name} at iteration {done}; saved {path}. "
                                      f"Continue with: train --resume --out {run.path}", pending.signum)
    if monitor.timed_out:
        print_fn(f"stopped after {max_minutes:g} minutes at iteration {done} of {steps}; saved {path}. "
                 f"Continue with: train --resume --out {run.path}")
    else:
        print_fn(f"saved {path} after {done} iterations")
    return model
