"""The one training loop: a run folder, a data stream and ``fit``.

Used by the command line and by the original-API facades alike.
"""

import sys

import keras
import numpy as np

from common import data
from common.callbacks import TrainingMonitor
from common.errors import UserError, require

SAMPLE_GRID = 64  # the original's 8x8 sample grids


def sample_latents(count, z_dim, seed):
    """Latent vectors z ~ N(0, 1) [count, z_dim] from a seeded NumPy generator."""
    return np.random.default_rng(seed).standard_normal((count, z_dim)).astype(np.float32)


class TrainingInterrupted(Exception):
    """Ctrl-C during training; a checkpoint of the last finished step was written."""


def train(run, recipes, images, steps, resume=False, checkpoint_every=1000, verbose="auto",
          print_fn=print, callbacks=()):
    """Train the run's model to ``steps`` iterations (warm-up not counted); returns the model.

    With ``resume`` the newest checkpoint is loaded and training continues from its step,
    with the optimisers' state, the data stream and the random draws exactly where an
    uninterrupted run would have them.
    """
    config = run.config
    require(steps >= 1, f"--steps must be at least 1, got {steps}")
    keras.utils.set_random_seed(config["seed"])
    model = run.build_model(recipes)
    recipe = model.recipe
    manager = run.manager(model)
    if resume:
        latest = run.restore(model)
        require(latest is not None, f"{run.path}: nothing to resume, the run has no checkpoint yet; "
                                    f"start it again without --resume")
        print_fn(f"resuming from {latest} (iteration {max(model.iteration, 0)})")
    total = recipe.pretrain_steps + steps
    start = int(model.step_counter.numpy())
    remaining = total - start
    config["steps"] = steps
    run.save_config()
    if remaining <= 0:
        print_fn(f"{run.path}: already trained {max(model.iteration, 0)} iterations; "
                 f"pass a larger --steps to train on")
        return model
    stream = data.batches(images, config["batch_size"], config["seed"], start_step=start, steps=remaining)
    monitor = TrainingMonitor(run, manager, steps, sample_latents(SAMPLE_GRID, recipe.z_dim, config["seed"]),
                              checkpoint_every=checkpoint_every, sample_prefix=recipe.sample_prefix,
                              print_fn=print_fn)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    try:
        model.fit(stream, epochs=1, steps_per_epoch=remaining, callbacks=[monitor, *callbacks],
                  verbose=verbose, shuffle=False)
    except KeyboardInterrupt:
        path = run.save(model, manager)
        raise TrainingInterrupted(
            f"interrupted at iteration {max(model.iteration, 0)}; saved {path}. "
            f"Continue with: train --resume --out {run.path}") from None
    if monitor.diverged is not None:
        i, logs = monitor.diverged
        kept = manager.latest_checkpoint or "none yet"
        raise UserError(f"training diverged at iteration {i}: losses {logs} are not finite; "
                        f"the last good checkpoint is kept ({kept}); start a new run with a "
                        f"lower --learning-rate")
    path = run.save(model, manager)
    print_fn(f"saved {path} after {max(model.iteration, 0)} iterations")
    return model
