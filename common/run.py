"""A run folder: everything one training run leaves behind, and how to reopen it.

::

    RUN_DIR/
      config.json     model, fidelity, z_dim, image shape, seed, batch size, steps done
      checkpoints/    tf.train.Checkpoint files: weights, both optimisers, the step counter
      samples/        sample grids on the original's display schedule
      logs/           TensorBoard: d_loss, g_loss, sample grids

Checkpoints are written by ``tf.train.CheckpointManager``, which updates its index file
atomically after the data files are complete; ``config.json`` is likewise replaced
atomically, so a process killed at any moment leaves the last complete checkpoint
loadable.
"""

import json
import os

import tensorflow as tf

from common.adversarial import build_model
from common.errors import UserError, require

CONFIG = "config.json"
CONFIG_VERSION = 1
# Recorded by ``train`` (see ``common/cli.py``); the defaults compute the original's float32 math.
SPEED_OPTIONS = {"precision": "float32", "jit_compile": False, "fused_discriminator": False}


def write_json_atomic(path, payload):
    partial = f"{path}.partial"
    with open(partial, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


class RunFolder:
    """Opens or creates a run folder for one model family's recipes."""

    def __init__(self, path, config):
        self.path = path
        self.config = config

    # --- paths -------------------------------------------------------------------------

    @property
    def checkpoint_dir(self):
        return os.path.join(self.path, "checkpoints")

    @property
    def samples_dir(self):
        return os.path.join(self.path, "samples")

    @property
    def logs_dir(self):
        return self.config.get("logs_dir") or os.path.join(self.path, "logs")

    # --- creation and opening ------------------------------------------------------------

    @classmethod
    def create(cls, path, config):
        os.makedirs(path, exist_ok=True)
        require(not os.path.exists(os.path.join(path, CONFIG)),
                f"{path}: already holds a run; pass --resume to continue it, or choose another --out")
        run = cls(path, dict(config, version=CONFIG_VERSION, steps_done=0))
        run.save_config()
        return run

    @classmethod
    def open(cls, path, recipes):
        config_path = os.path.join(path, CONFIG)
        require(os.path.isdir(path), f"{path}: no such run folder; give the --out folder of a train run")
        require(os.path.exists(config_path), f"{path}: not a run folder (no {CONFIG}); give the --out "
                                             f"folder of a train run")
        try:
            with open(config_path) as handle:
                config = json.load(handle)
        except (OSError, ValueError) as exc:
            raise UserError(f"{config_path}: unreadable run configuration ({exc})") from exc
        require(isinstance(config, dict) and config.get("model") in recipes,
                f"{config_path}: a run of model {config.get('model') if isinstance(config, dict) else None!r}, "
                f"this command handles {sorted(recipes)}")
        return cls(path, config)

    def save_config(self):
        write_json_atomic(os.path.join(self.path, CONFIG), self.config)

    # --- the model -----------------------------------------------------------------------

    def build_model(self, recipes):
        config = self.config
        recipe = recipes[config["model"]]
        changes = {key: config[key] for key in ("z_dim", "beta1")
                   if key in config and config[key] != getattr(recipe, key)}
        # The speed options of issue 8; a config written before them has the defaults.
        options = {key: config.get(key, default) for key, default in SPEED_OPTIONS.items()}
        return build_model(recipe, fidelity=config["fidelity"], seed=config["seed"],
                           learning_rate=config["learning_rate"], **options, **changes)

    @staticmethod
    def checkpoint_of(model):
        return tf.train.Checkpoint(generator=model.generator, discriminator=model.discriminator,
                                   step_counter=model.step_counter,
                                   d_optimizer=model.d_optimizer, g_optimizer=model.g_optimizer)

    def manager(self, model, max_to_keep=3):
        return tf.train.CheckpointManager(self.checkpoint_of(model), self.checkpoint_dir,
                                          max_to_keep=max_to_keep, step_counter=model.step_counter)

    def save(self, model, manager=None):
        """Write a checkpoint at the model's current step and record it in config.json."""
        manager = manager or self.manager(model)
        path = manager.save(checkpoint_number=int(model.step_counter.numpy()))
        self.config["steps_done"] = model.iteration if model.iteration > 0 else 0
        self.config["global_step"] = int(model.step_counter.numpy())
        self.save_config()
        return path

    def restore(self, model, expect_partial=False):
        """Load the newest checkpoint into ``model``; returns its path (None if there is none)."""
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        if latest is None:
            return None
        status = self.checkpoint_of(model).restore(latest)
        if expect_partial:
            status.expect_partial()
        else:
            status.assert_existing_objects_matched()
        return latest

    def load_model(self, recipes, expect_partial=True):
        model = self.build_model(recipes)
        latest = self.restore(model, expect_partial=expect_partial)
        require(latest is not None, f"{self.path}: the run has no checkpoint yet; train it first")
        return model
