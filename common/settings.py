"""A run's settings: what ``config.json`` records (:class:`RunConfig`), the named recipes
beyond the original's (:class:`Preset`), and how both are checked.

The run folder that holds them is :mod:`common.run`.
"""

import dataclasses
import math
import os
import typing
from typing import Optional

import numpy as np

from common.errors import UserError, require
from common.losses import ADVERSARIAL_LOSSES
from common.recipes import FIDELITIES, PRECISIONS

CONFIG_VERSION = 1
STRATEGIES = ("one", "mirrored", "multiworker")
# Far beyond any GAN run, and small enough that every stateless draw's step number fits int64.
MAX_STEPS = 10 ** 9


def random_seed():
    """A fresh seed for a run that was given none (recorded in its config.json)."""
    return int.from_bytes(os.urandom(4), "little") % 2 ** 31


def absolute_data_path(data):
    """``--data`` as recorded: an existing file or folder by its absolute path, a name as given."""
    if data is not None and os.path.exists(data):
        return os.path.abspath(data)
    return data


# The recipe fields a preset may change (plain values, so config.json records them).
PRESET_RECIPE_FIELDS = ("loss", "pretrain_steps", "beta1", "beta2", "r1_weight")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named recipe beyond the original's (``train --preset NAME``), chosen by measurement.

    It sets a new run's defaults, which options on the command line still override, and
    changes recipe fields (``recipe_changes``, keys among :data:`PRESET_RECIPE_FIELDS`).
    The run records both, so it resumes and loads without this definition.
    """

    name: str
    model: str
    description: str
    fidelity: str
    batch_size: int
    learning_rate: float
    steps: int
    ema_decay: Optional[float]
    eval_every: int
    recipe_changes: tuple = ()  # ((field, value), ...): a frozen dataclass holds no dict

    @property
    def changes(self):
        return dict(self.recipe_changes)


@dataclasses.dataclass
class RunConfig:
    """What ``config.json`` records: the settings a run was started with and its progress.

    Read with :meth:`from_dict`, which checks every key; written with :meth:`to_dict`.
    ``data`` is an absolute path (or a name such as ``keras`` or ``cartoon:N``), so a run
    resumes from any working directory.
    """

    model: str
    fidelity: str
    z_dim: int
    image_shape: tuple
    seed: int
    batch_size: int
    learning_rate: float
    steps: int
    data: Optional[str] = None
    data_fingerprint: Optional[dict] = None  # common.data.fingerprint of what it started on
    precision: str = "float32"
    jit_compile: bool = False
    fused_discriminator: bool = False
    beta1: Optional[float] = None  # None: the recipe's
    strategy: str = "one"  # the last one used; every strategy computes the same numbers
    steps_done: int = 0
    global_step: int = 0
    logs_dir: Optional[str] = None
    imported_from: Optional[str] = None
    imported_adam_steps: Optional[dict] = None
    imported_colour_order: Optional[str] = None
    channel_order: Optional[str] = None
    ema_decay: Optional[float] = None  # train --ema-decay: the run keeps an averaged generator
    # train --preset: its name, and the recipe fields it changes (e.g. {"loss": "hinge"});
    # recorded in full, so the run rebuilds without the preset's definition.
    preset: Optional[str] = None
    recipe_changes: Optional[dict] = None
    # Quirks Q8 and Q6 corrected (train --stable-losses / --reshuffle; always in fixed
    # fidelity). Runs written before these keys existed trained with both, hence True.
    stable_losses: bool = True
    reshuffle: bool = True
    # The best checkpoint (train --eval-every): {"iteration", "step", "frechet_distance", and the
    # other scores of that evaluation}; its files are best/ckpt-STEP.
    best: Optional[dict] = None
    version: int = CONFIG_VERSION

    # The settings that decide what a run computes: a resumed run keeps them.
    FIXED_ON_RESUME: typing.ClassVar = ("model", "fidelity", "z_dim", "batch_size", "learning_rate",
                                        "seed", "data", "precision", "jit_compile", "fused_discriminator",
                                        "ema_decay", "preset", "stable_losses", "reshuffle")
    # The speed options of issue 8; recorded, and the defaults compute the original's math.
    SPEED_OPTIONS: typing.ClassVar = ("precision", "jit_compile", "fused_discriminator")

    @classmethod
    def from_dict(cls, raw, source="config.json"):
        """A checked configuration; a bad key is a :class:`UserError` naming ``source`` and the key."""
        require(isinstance(raw, dict), f"{source}: expected a JSON object, found {type(raw).__name__}")
        version = raw.get("version", CONFIG_VERSION)
        require(version == CONFIG_VERSION,
                f"{source}: configuration version {version!r}, this program reads version "
                f"{CONFIG_VERSION}; was the run written by a newer version of the port?")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise UserError(f"{source}: unknown key {unknown[0]!r}; expected keys among {sorted(fields)}")
        for name, field in fields.items():
            required = field.default is dataclasses.MISSING
            require(not required or name in raw, f"{source}: missing key {name!r} (a {_describe(hints[name])})")
        values = {name: _checked(value, hints[name], source, name) for name, value in raw.items()}
        if "image_shape" in values:
            values["image_shape"] = tuple(values["image_shape"])
        config = cls(**values)
        config.check(source)
        return config

    def check(self, source="config.json"):
        def bad(key, expected):
            return f"{source}: key {key!r} is {getattr(self, key)!r}, expected {expected}"

        require(self.fidelity in FIDELITIES, bad("fidelity", f"one of {FIDELITIES}"))
        require(self.precision in PRECISIONS, bad("precision", f"one of {PRECISIONS}"))
        require(self.strategy in STRATEGIES, bad("strategy", f"one of {STRATEGIES}"))
        require(len(self.image_shape) == 3 and all(isinstance(d, int) and d > 0 for d in self.image_shape),
                bad("image_shape", "[height, width, channels] of positive whole numbers"))
        for key in ("z_dim", "batch_size", "steps"):
            require(getattr(self, key) >= 1, bad(key, "at least 1"))
        require(self.steps <= MAX_STEPS, bad("steps", f"at most {MAX_STEPS}"))
        require(0 <= self.seed < 2 ** 31, bad("seed", "in 0..2147483647"))
        require(np.isfinite(self.learning_rate) and self.learning_rate > 0, bad("learning_rate", "a positive number"))
        require(self.beta1 is None or 0 <= self.beta1 < 1, bad("beta1", "in [0, 1)"))
        for key in ("steps_done", "global_step"):
            require(getattr(self, key) >= 0, bad(key, "at least 0"))
        require(self.ema_decay is None or 0 < self.ema_decay < 1, bad("ema_decay", "in (0, 1)"))
        if self.recipe_changes is not None:
            unknown = sorted(set(self.recipe_changes) - set(PRESET_RECIPE_FIELDS))
            require(not unknown, bad("recipe_changes", f"a JSON object with keys among {PRESET_RECIPE_FIELDS}"))
            loss = self.recipe_changes.get("loss", "minimax")
            require(loss in ADVERSARIAL_LOSSES, bad("recipe_changes", f"a loss among {sorted(ADVERSARIAL_LOSSES)}"))
        if self.best is not None:
            best = self.best
            expected = ('{"iteration": N, "step": S, "frechet_distance": X, ...} with whole numbers '
                        'N, S >= 0 and a finite X')
            whole = [best.get(key) for key in ("iteration", "step")]
            distance = best.get("frechet_distance")
            require(all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in whole)
                    and isinstance(distance, (int, float)) and not isinstance(distance, bool)
                    and math.isfinite(distance), bad("best", expected))
        return self

    def to_dict(self):
        """JSON-ready; unset optional keys are left out, so files read as they always did."""
        payload = dataclasses.asdict(self)
        payload["image_shape"] = list(self.image_shape)
        return {key: value for key, value in payload.items() if value is not None or key == "data"}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes).check("the run configuration")


def _describe(hint):
    kinds = {int: "whole number", float: "number", str: "string", bool: "true or false",
             tuple: "list", dict: "JSON object"}
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return kinds[args[0] if args else hint]


def _checked(value, hint, source, name):
    optional = type(None) in typing.get_args(hint)
    kind = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    if value is None and optional:
        return None
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is tuple:
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, kind)
    require(ok, f"{source}: key {name!r} is {value!r}, expected a {_describe(hint)}")
    return value
