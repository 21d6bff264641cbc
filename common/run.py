"""A run folder: everything one training run leaves behind, and how to reopen it.

::

    RUN_DIR/
      config.json     the run's settings (:class:`RunConfig`) and how far it has trained
      checkpoints/    ckpt-STEP: weights, both optimisers, the step counter (and the
                      averaged generator of a run with --ema-decay)
      best/           ckpt-STEP: the checkpoint with the lowest Frechet distance so far
                      (train --eval-every), outside the rotation; config.json's ``best``
                      records its iteration and scores
      samples/        sample grids on the original's display schedule
      logs/           TensorBoard: d_loss, g_loss, sample grids

Nothing here is written half: ``config.json`` is replaced by an atomic rename, and the
checkpoints are written and read as :mod:`common.checkpointing` says. ``--out`` takes only a
new path, an empty folder or a run folder of this program (:meth:`RunFolder.find`): nothing
else is ever written into or removed.
"""

import contextlib
import fcntl
import json
import os
import shutil
import socket
import sys
import tempfile

from common.adversarial import build_model
from common.checkpointing import Checkpointing, checkpoint_files
from common.errors import UserError, require
from common.files import write_json_atomically
from common.settings import RunConfig

# The run folder's layout: every name in it, here and nowhere else.
CONFIG = "config.json"
CHECKPOINTS = "checkpoints"
BEST = "best"
SAMPLES = "samples"
LOGS = "logs"
LOCK = ".lock"
RUN_ENTRIES = (CONFIG, CHECKPOINTS, BEST, SAMPLES, LOGS, LOCK)


# --- the folder --------------------------------------------------------------------------


def make_folder(path):
    """Create the run folder ``path`` (and its parents), or say in one line why it cannot be."""
    require(not os.path.exists(path) or os.path.isdir(path),
            f"--out {path}: exists and is not a folder; give a folder path for the run")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {path}: cannot create the run folder ({exc.strerror or exc}); "
                        f"choose a writable path") from None
    require(os.access(path, os.W_OK | os.X_OK), f"--out {path}: the folder is not writable; choose another")


@contextlib.contextmanager
def training_lock(path):
    """Hold ``path``'s lock while one ``train`` writes it; a second ``train`` of the run is refused.

    An advisory ``flock``: the system drops it when the process dies, however it dies.
    """
    make_folder(path)
    handle = open(os.path.join(path, LOCK), "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise UserError(f"{path}: is being trained by {holder}; wait for it to end, or stop it "
                            f"(it writes a checkpoint on SIGTERM) and run --resume") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def worker_folder(out, resume):
    """``(run folder, folder to delete at the end)`` for a non-chief worker of
    ``train --strategy multiworker`` (only the chief writes ``out``; see common/distribute.py).

    A fresh run gets an empty temporary folder; a resumed one a copy of ``out``'s
    configuration and checkpoints (``best/`` too), so every worker restores the same state
    (``out`` must be on a file system every worker reads).
    """
    root = tempfile.mkdtemp(prefix="gan-worker-")
    path = os.path.join(root, "run")
    if resume and os.path.exists(os.path.join(out, CONFIG)):
        os.makedirs(path)
        shutil.copy2(os.path.join(out, CONFIG), path)
        for folder in (CHECKPOINTS, BEST):
            if os.path.isdir(os.path.join(out, folder)):
                shutil.copytree(os.path.join(out, folder), os.path.join(path, folder))
    return path, root


class RunFolder(Checkpointing):
    """Opens or creates a run folder for one model family's recipes."""

    def __init__(self, path, config: RunConfig, recipes=None):
        self.path = path
        self.config = config
        self.recipes = recipes  # the program's recipes (open gives them): which another config would build

    @property
    def checkpoint_dir(self):
        return os.path.join(self.path, CHECKPOINTS)

    @property
    def samples_dir(self):
        return os.path.join(self.path, SAMPLES)

    @property
    def logs_dir(self):
        return self.config.logs_dir or os.path.join(self.path, LOGS)

    @property
    def config_path(self):
        return os.path.join(self.path, CONFIG)

    @property
    def best_dir(self):
        return os.path.join(self.path, BEST)

    @staticmethod
    def holds_checkpoint(path):
        """Whether ``path`` holds a run with at least one checkpoint file (loadable or not),
        in ``checkpoints/`` or ``best/``: the best checkpoint is a whole checkpoint too."""
        return bool(checkpoint_files(os.path.join(path, CHECKPOINTS)) or checkpoint_files(os.path.join(path, BEST)))

    @classmethod
    def find(cls, path, recipes, option="--out"):
        """The run in ``path``; None where ``path`` is free for a new run (a new path, or an
        empty folder). ``recipes``: the program's, or None for a run of any model. Anything else is refused (:class:`UserError`) and left as it is: a
        folder of other files, somebody else's ``config.json``, checkpoints whose
        ``config.json`` is gone.
        """
        if not os.path.exists(path):
            return None
        require(os.path.isdir(path), f"{option} {path}: exists and is not a folder; give a folder path for the run")
        entries = sorted(set(os.listdir(path)) - {LOCK})
        if not entries:
            return None
        free = (f"{option} must be a new path, an empty folder or a run folder of this program: "
                f"give another {option}")
        if CONFIG not in entries:
            if cls.holds_checkpoint(path):
                raise UserError(f"{path}: holds checkpoints but no {CONFIG}, which records the settings "
                                f"(model, seed, batch size, data) they were trained with; put back {CONFIG} "
                                f"from a copy of the run, or give another {option} for a new run")
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise UserError(f"{option} {path}: not empty ({shown}) and not a run folder (no {CONFIG}); {free}")
        return cls.open(path, recipes, not_ours=f"{option} {path}: its {CONFIG} is not a run configuration "
                                               f"of this program (somebody else's file?); {free}")

    @classmethod
    def create(cls, path, config, option="--out"):
        """A new run in ``path``; a folder holding an untrained run (no checkpoint) is started
        afresh. Anything else already there is refused (see :meth:`find`) and left as it is."""
        config = config if isinstance(config, RunConfig) else RunConfig.from_dict(config, "the run configuration")
        cls.find(path, None, option)
        require(not cls.holds_checkpoint(path),
                f"{option} {path}: already holds a trained run; choose another {option}")
        make_folder(path)
        if os.path.exists(os.path.join(path, CONFIG)):  # an earlier attempt that never checkpointed
            for stale in (SAMPLES, LOGS, CHECKPOINTS, BEST):
                shutil.rmtree(os.path.join(path, stale), ignore_errors=True)
        run = cls(path, config.replace(steps_done=0, global_step=0))
        run.save_config()
        return run

    @classmethod
    def open(cls, path, recipes, not_ours=None):
        """The run in ``path``; ``not_ours``: the refusal where its config.json is no run's of
        this program at all (hand-broken ones are refused key by key)."""
        config_path = os.path.join(path, CONFIG)
        require(os.path.isdir(path), f"{path}: no such run folder; give the --out folder of a train run")
        if not os.path.exists(config_path) and cls.holds_checkpoint(path):
            raise UserError(f"{path}: holds checkpoints but no {CONFIG}, which records the settings they "
                            f"were trained with; put back {CONFIG} from a copy of the run")
        require(os.path.exists(config_path), f"{path}: not a run folder (no {CONFIG}); give the --out "
                                             f"folder of a train run")
        raw = _read_config(config_path)
        if not (isinstance(raw, dict) and {"model", "z_dim", "seed", "image_shape"} & set(raw)):
            raise UserError(not_ours or f"{path}: its {CONFIG} is not a run configuration of this program "
                                        f"(somebody else's file?); give the --out folder of a train run")
        config = RunConfig.from_dict(raw, config_path)
        if recipes is not None and config.model not in recipes:
            raise UserError(f"{config_path}: a run of model {config.model!r}, this command handles "
                            f"{sorted(recipes)}; open it with the program that trained it")
        return cls(path, config, recipes)

    @staticmethod
    def remove_untrained(path, existed):
        """Take back a run that stopped before its first checkpoint: the folder if this
        command made it, else only the run's own entries (a folder the user made stays)."""
        if not existed:
            shutil.rmtree(path, ignore_errors=True)
            return
        for name in RUN_ENTRIES:
            entry = os.path.join(path, name)
            if os.path.isdir(entry):
                shutil.rmtree(entry, ignore_errors=True)
            elif os.path.exists(entry):
                os.remove(entry)

    def save_config(self):
        write_json_atomically(self.config_path, self.config.to_dict(), sort_keys=True)

    # --- the model -----------------------------------------------------------------------

    def build_model(self, recipes):
        config = self.config
        recipe = recipes[config.model]
        changes = {key: getattr(config, key) for key in ("z_dim", "beta1")
                   if getattr(config, key) is not None and getattr(config, key) != getattr(recipe, key)}
        changes.update(config.recipe_changes or {})
        return build_model(recipe, **config.model_arguments(), **changes)

    def load_model(self, recipes, expect_partial=True, which="latest", print_fn=print, averaged=False):
        """The run's model at checkpoint ``which`` (see :meth:`restore`).

        ``averaged``: where the run keeps an averaged generator (``train --ema-decay``), the
        generator holds the averages instead of its own weights, and ``print_fn`` says so.
        """
        model = self.build_model(recipes)
        loaded = self.restore(model, which=which, expect_partial=expect_partial, print_fn=print_fn)
        require(loaded is not None, f"{self.path}: the run has no checkpoint yet; train it first")
        if averaged and model.ema_variables:
            model.averages.use()
            print_fn(f"using the averaged generator (EMA, decay {model.averages.decay:g}); --no-ema for "
                     f"the raw weights")
        return model


def load_run_model(path, family, which="auto", averaged=True):
    """``(run, model)``: a run folder's model at the chosen checkpoint (the averaged generator
    where the run keeps one and ``averaged``); choices and skipped files are reported."""
    run = RunFolder.open(path, family.recipes)
    model = run.load_model(family.recipes, which=which, averaged=averaged,
                           print_fn=lambda message: print(f"{family.prog}: {message}", file=sys.stderr))
    return run, model


def _read_config(config_path):
    try:
        with open(config_path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise UserError(f"{config_path}: unreadable run configuration ({exc})") from exc


