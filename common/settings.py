"""A run's settings, one table (:data:`TRAIN_SETTINGS`): what ``train`` takes on the command
line, what a run's ``config.json`` records (:data:`RunConfig`), what ``build_model`` is given,
and the named recipes beyond the original's (:class:`Preset`), which set some of them.

Adding a train option means adding a :class:`Setting` here and writing the code that uses
it; argparse, ``config.json``, ``--resume``'s checks and the model builder follow from the
table (docs/layout.md, "Adding a train option"). The run folder that holds a configuration
is :mod:`common.run`.
"""

import argparse
import dataclasses
import math
import os
import typing
from typing import Callable, Optional

import numpy as np

from common.arguments import (MAX_STEPS, decay_float, non_negative_float, non_negative_int, per_model,
                              positive_float, positive_int, seed_int, steps_int, warm_up_steps)
from common.errors import UserError, require
from common.losses import ADVERSARIAL_LOSSES, AS_WRITTEN
from common.recipes import FIDELITIES, PRECISIONS

CONFIG_VERSION = 1
STRATEGIES = ("one", "mirrored", "multiworker")
SPEED = "speed and scale (see docs/speed.md)"  # the argparse group of the speed options
REQUIRED = object()  # a config.json key without which the file is refused


def random_seed():
    """A fresh seed for a run that was given none (recorded in its config.json)."""
    return int.from_bytes(os.urandom(4), "little") % 2 ** 31


def absolute_data_path(data):
    """``--data`` as recorded: an existing file or folder by its absolute path, a name as given."""
    if data is not None and os.path.exists(data):
        return os.path.abspath(data)
    return data


# --- the table ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Setting:
    """One train setting: its option (``--name-with-dashes``), its ``config.json`` key, and
    how a run treats it."""

    name: str
    kind: object  # its type, as config.json holds it (a typing hint)
    help: object  # str, or (family) -> str for a help text that names the program's models
    parse: Optional[Callable] = None  # argparse's type; None: a switch (given: True)
    choices: object = None  # a tuple, or (family) -> tuple
    # A new run's value where neither the command line nor the preset gives one: a value,
    # or (recipe, settings chosen so far) -> value.
    default: object = None
    recorded: bool = True  # config.json keeps it
    absent: object = REQUIRED  # what a config.json without the key means
    on_resume: bool = False  # may change on --resume; else the run keeps its value
    builds: Optional[str] = None  # "model": an AdversarialModel argument; "compile": of its compile
    offered: Callable = lambda family: True  # whether the program's train takes the option
    group: Optional[str] = None  # argparse group title

    @property
    def option(self):
        return "--" + self.name.replace("_", "-")

    def new_run_value(self, recipe, chosen):
        return self.default(recipe, chosen) if callable(self.default) else self.default


def _quirk_corrected(recipe, chosen):
    """Q8 and Q6 corrected or not: always in fixed fidelity, by option in legacy."""
    return chosen["fidelity"] == "fixed"


TRAIN_SETTINGS = (
    Setting("model", str, choices=lambda family: tuple(sorted(family.recipes)),
            help=lambda family: f"which of the original's models to train (default {family.default_model}): "
                                + "; ".join(f"{k}: {r.description}" for k, r in sorted(family.recipes.items()))),
    Setting("preset", Optional[str], absent=None, choices=lambda family: tuple(sorted(family.presets)),
            offered=lambda family: bool(family.presets),
            help=lambda family: "a recipe beyond the original's, chosen by measurement (the README shows "
                                "how); options given beside it override its settings: "
                                + "; ".join(f"{name}: {preset.description}"
                                            for name, preset in sorted(family.presets.items()))),
    Setting("data", Optional[str], absent=None, help=lambda family: family.data_help),
    Setting("steps", int, parse=steps_int, on_resume=True, default=lambda recipe, chosen: recipe.default_steps,
            help=lambda family: "training iterations in all, as the original's train_epochs counted them"
                                + (f" ({warm_up_steps(family)} discriminator-only warm-up steps come on top)"
                                   if warm_up_steps(family) else "")
                                + f"; default: the original's ({per_model(family, lambda r: r.default_steps)}). "
                                  "With --resume: the new total"),
    Setting("batch_size", int, parse=positive_int, default=lambda recipe, chosen: recipe.default_batch_size,
            help=lambda family: "images per batch (default: the original's, "
                                f"{per_model(family, lambda r: r.default_batch_size)})"),
    Setting("learning_rate", float, parse=positive_float, builds="compile",
            default=lambda recipe, chosen: recipe.default_learning_rate,
            help=lambda family: "Adam learning rate (default: the original's, "
                                f"{per_model(family, lambda r: r.default_learning_rate)})"),
    Setting("seed", int, parse=seed_int, builds="model", default=lambda recipe, chosen: random_seed(),
            help="seed of the weights, the data order and every random draw (default: a random one, "
                 "recorded in config.json)"),
    Setting("fidelity", str, choices=FIDELITIES, builds="model", default="legacy",
            help="legacy (default): the original's math, quirks included; fixed: the named quirks "
                 "corrected (see docs/fidelity.md)"),
    Setting("stable_losses", bool, absent=True, builds="model", default=_quirk_corrected,
            offered=lambda family: any(r.loss in AS_WRITTEN for r in family.recipes.values()),
            help="legacy fidelity: compute the vanilla GAN's losses from logits, finite where the "
                 "original's log of a sigmoid is -inf and with other gradients where the sigmoid rounds "
                 "to 0 or 1 (quirk Q8 corrected; always so in fixed fidelity). Default: as the original "
                 "wrote them, divergences included"),
    Setting("reshuffle", bool, absent=True, default=_quirk_corrected,
            help="legacy fidelity: a fresh seeded order of the data every epoch (quirk Q6 corrected; "
                 "always so in fixed fidelity). Default: the original's order, one shuffle replayed every "
                 "epoch but for each epoch's first batch"),
    Setting("checkpoint_every", int, parse=non_negative_int, default=1000, recorded=False, on_resume=True,
            help="write a checkpoint every N iterations (default 1000; 0: never by count); one is always "
                 "written at the end and on Ctrl-C or SIGTERM"),
    Setting("checkpoint_minutes", float, parse=non_negative_float, default=10.0, recorded=False, on_resume=True,
            help="also write a checkpoint whenever M minutes have passed since the last one (default 10; "
                 "0: never by time), so a kill loses at most M minutes"),
    Setting("max_minutes", Optional[float], parse=positive_float, recorded=False, on_resume=True,
            help="stop cleanly, with a checkpoint, once M minutes of training have passed (default: no "
                 "limit); --resume goes on from there"),
    Setting("ema_decay", Optional[float], parse=decay_float, absent=None, builds="model",
            help="also keep an exponential moving average of the generator's weights (batch-norm "
                 "statistics included), ema = D * ema + (1 - D) * w after every generator update, e.g. "
                 "0.999; checkpointed with the run, and used by generate, export and evaluate (--no-ema "
                 "there for the raw weights). Default: none, the original's training exactly. In legacy "
                 "fidelity the averaged generator normalises by batch statistics as the raw one does"),
    Setting("eval_every", int, parse=non_negative_int, default=0, recorded=False, on_resume=True,
            offered=lambda family: family.evaluator is not None,
            help="every N iterations, score 1000 samples (the numbers evaluate gives; of the averaged "
                 "generator with --ema-decay) and log them to TensorBoard under eval/ (default 0: never; a "
                 "preset's own otherwise); the checkpoint with the lowest Frechet distance so far is kept "
                 "in RUN_DIR/best/, which generate, export and evaluate then use by default"),
    # Speed and scale (GitHub issue 8; docs/speed.md); the defaults compute the original's math.
    Setting("precision", str, choices=PRECISIONS, absent="float32", default="float32", builds="model",
            group=SPEED,
            help="float32 (default): the original's math; mixed_bfloat16 (fast on CPUs with AVX-512 BF16 "
                 "and on recent GPUs) or mixed_float16 (GPUs, with loss scaling): layers compute in 16 "
                 "bits, weights and losses stay float32"),
    Setting("jit_compile", bool, absent=False, default=False, builds="compile", group=SPEED,
            help="compile the training step with XLA (default: off)"),
    Setting("fused_discriminator", bool, absent=False, default=False, builds="model", group=SPEED,
            help="one discriminator call on the real and generated batch together (default: two calls, "
                 "as the original; one call rounds differently)"),
    Setting("strategy", str, choices=STRATEGIES, absent="one", default="one", on_resume=True, group=SPEED,
            help="one (default): this device; mirrored: every GPU of this machine (or every logical CPU "
                 "device); multiworker: one process per machine, cluster from TF_CONFIG, same --seed and "
                 "--out on every worker"),
)
SETTINGS = {setting.name: setting for setting in TRAIN_SETTINGS}
# The recorded values that decide a network's variables.
NETWORK_KEYS = ("model", "fidelity", "z_dim", "ema_decay")


# --- presets --------------------------------------------------------------------------------


# The recipe fields a preset may change (plain values, so config.json records them).
PRESET_RECIPE_FIELDS = ("loss", "pretrain_steps", "beta1", "beta2", "r1_weight", "discriminator_steps",
                        "penalty_weight", "share_z")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named recipe beyond the original's (``train --preset NAME``), chosen by measurement.

    ``settings`` are a new run's defaults (names of :data:`TRAIN_SETTINGS`), which options on
    the command line still override; ``recipe_changes`` change recipe fields (among
    :data:`PRESET_RECIPE_FIELDS`). The run records both, so it resumes and loads without
    this definition.
    """

    name: str
    model: str
    description: str
    settings: tuple = ()  # ((setting, value), ...): a frozen dataclass holds no dict
    recipe_changes: tuple = ()  # ((field, value), ...)

    def __post_init__(self):
        unknown = sorted(set(dict(self.settings)) - set(SETTINGS)) + \
            sorted(set(self.changes) - set(PRESET_RECIPE_FIELDS))
        if unknown:
            raise ValueError(f"preset {self.name!r}: {unknown[0]!r} is neither a train setting nor a recipe "
                             f"field a preset may change")

    def default(self, name):
        """The preset's value of setting ``name``; None where it leaves it be."""
        return dict(self.settings).get(name)

    @property
    def changes(self):
        return dict(self.recipe_changes)


# --- what config.json records ------------------------------------------------------------------


class _RunConfigMethods:
    """How a :data:`RunConfig` is read, checked and written."""

    # The settings that decide what a run computes: a resumed run keeps them.
    FIXED_ON_RESUME: typing.ClassVar = tuple(s.name for s in TRAIN_SETTINGS if s.recorded and not s.on_resume)
    # The speed options of issue 8; recorded, and the defaults compute the original's math.
    SPEED_OPTIONS: typing.ClassVar = tuple(s.name for s in TRAIN_SETTINGS if s.group == SPEED and s.builds)
    NETWORK_KEYS: typing.ClassVar = NETWORK_KEYS

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

    def reading_data(self, args, data=None):
        """``args`` with the run's ``data_options`` (how train read its data, e.g. genface's
        --resize) switched on where ``data`` (default: the run's own) is the run's data, so
        that --resume and evaluate read it as train did."""
        if data is not None and absolute_data_path(data) != self.data:
            return args
        recorded = {name: True for name, on in (self.data_options or {}).items()
                    if on and not getattr(args, name, False)}
        return argparse.Namespace(**{**vars(args), **recorded}) if recorded else args

    def model_arguments(self):
        """``build_model``'s arguments from the recorded settings (the run's recipe aside)."""
        return {s.name: getattr(self, s.name) for s in TRAIN_SETTINGS if s.builds and s.recorded}

    def network_alternatives(self, recipes):
        """Other values of :data:`NETWORK_KEYS`, nearest first: what a checkpoint that does
        not fit this configuration may have been written with."""
        for name in sorted(recipes, key=lambda n: n != self.model):
            for fidelity in sorted(FIDELITIES, key=lambda f: f != self.fidelity):
                for z_dim in dict.fromkeys((self.z_dim, recipes[name].z_dim)):
                    for averaged in dict.fromkeys((self.ema_decay, None)):
                        values = dict(zip(NETWORK_KEYS, (name, fidelity, z_dim, averaged)))
                        if any(getattr(self, key) != value for key, value in values.items()):
                            yield values


def _field(name, kind, absent=REQUIRED):
    return (name, kind) if absent is REQUIRED else (name, kind, dataclasses.field(default=absent))


_RECORDED = [s for s in TRAIN_SETTINGS if s.recorded]
# What config.json records: the recorded settings of the table, and the run's own state.
RunConfig = dataclasses.make_dataclass("RunConfig", [
    *(_field(s.name, s.kind) for s in _RECORDED if s.absent is REQUIRED),
    _field("z_dim", int), _field("image_shape", tuple),
    *(_field(s.name, s.kind, s.absent) for s in _RECORDED if s.absent is not REQUIRED),
    _field("data_fingerprint", Optional[dict], None),  # common.data.fingerprint of what it started on
    # The options train read its data with, where any was on (genface: {"resize": true}).
    _field("data_options", Optional[dict], None),
    _field("beta1", Optional[float], None),  # None: the recipe's (an imported TF1 run's own)
    _field("steps_done", int, 0),
    _field("global_step", int, 0),
    _field("logs_dir", Optional[str], None),
    _field("imported_from", Optional[str], None),
    _field("imported_adam_steps", Optional[dict], None),
    _field("imported_colour_order", Optional[str], None),
    _field("channel_order", Optional[str], None),
    # The fields a preset changed in the recipe (e.g. {"loss": "hinge"}), recorded in full, so
    # the run rebuilds without the preset's definition.
    _field("recipe_changes", Optional[dict], None),
    # The best checkpoint (train --eval-every): {"iteration", "step", "frechet_distance", and the
    # other scores of that evaluation}; its files are best/ckpt-STEP.
    _field("best", Optional[dict], None),
    _field("version", int, CONFIG_VERSION),
], bases=(_RunConfigMethods,), namespace={"__module__": __name__, "__doc__": """What ``config.json``
    records: the recorded settings of :data:`TRAIN_SETTINGS` a run was started with, and its
    progress. Read with :meth:`from_dict`, which checks every key; written with :meth:`to_dict`.
    ``data`` is an absolute path (or a name such as ``keras`` or ``cartoon:N``), so a run resumes
    from any working directory."""})


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
