"""What a command is, and the pieces of argparse the commands share: argument types
that explain themselves, options several commands take, and help texts written from a
program's own models (so each program's help speaks of its models only).

Imports no command module: every command module imports this one.
"""

import argparse
import dataclasses
from typing import Callable


@dataclasses.dataclass(frozen=True)
class Command:
    """A subcommand; a program lists those it offers (``common.cli.Family.commands``)."""

    name: str
    help: str
    add_arguments: Callable  # (parser, family)
    run: Callable  # (args, family) -> exit status


# --- argument types that explain themselves -----------------------------------------------


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def non_negative_int(text):
    value = positive_int(text) if text.strip() != "0" else 0
    return value


def _float(text, holds, expected):
    """``text`` as a float for which ``holds(value)``; else an argparse error saying ``expected``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not holds(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return value


def positive_float(text):
    return _float(text, lambda v: 0 < v < float("inf"), "a positive finite number")


def non_negative_float(text):
    return _float(text, lambda v: 0 <= v < float("inf"), "a finite number of at least 0")


def decay_float(text):
    return _float(text, lambda v: 0 < v < 1, "a decay strictly between 0 and 1 (such as 0.999)")


# Far beyond any GAN run, and small enough that every stateless draw's step number fits int64.
MAX_STEPS = 10 ** 9


def steps_int(text):
    value = positive_int(text)
    if value > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_STEPS} iterations, got {value}")
    return value


def seed_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2 ** 31:
        raise argparse.ArgumentTypeError(f"seed must be in 0..2147483647, got {value}")
    return value



def checkpoint_choice(text):
    """``--checkpoint``: ``best``, ``latest``, ``auto`` or an iteration number."""
    from common.checkpointing import CHECKPOINT_CHOICES

    if text in CHECKPOINT_CHOICES:
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected best, latest or an iteration number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an iteration of at least 0, got {value}")
    return value


def add_checkpoint_argument(parser, family, default="latest"):
    """``--checkpoint``; ``default="auto"``: the best checkpoint where the run keeps one."""
    first = ("best (the lowest Frechet distance, kept by train --eval-every), latest (the newest "
             "that loads)")
    if default == "auto":
        first += "; default: best where the run keeps one, else latest"
    else:
        first += f"; default: {default}"
    warm_up = warm_up_steps(family)
    files = f"ckpt-STEP, STEP counting {warm_up} warm-up steps" if warm_up else "ckpt-N"
    parser.add_argument("--checkpoint", type=checkpoint_choice, default=default,
                        help=f"which checkpoint of the run: {first}; or an iteration number N (ls "
                             f"RUN_DIR/checkpoints: {files})")


def add_ema_argument(parser):
    parser.add_argument("--no-ema", action="store_true",
                        help="use the generator's own weights even where the run keeps an averaged "
                             "generator (train --ema-decay), which is used by default")



# --- help texts from the program's own models ------------------------------------------------


def per_model(family, value):
    """``value(recipe)`` for each model of ``family``, for a help text: "gan 128, wgan 64",
    or "64" alone where every model has the same."""
    values = {name: value(recipe) for name, recipe in sorted(family.recipes.items())}
    if len(set(values.values())) == 1:
        return str(next(iter(values.values())))
    return ", ".join(f"{name} {v}" for name, v in values.items())


def warm_up_steps(family):
    """"gan's 30": the discriminator-only warm-up steps of the models that take them ("" if none)."""
    return " and ".join(f"{name}'s {recipe.pretrain_steps}" for name, recipe in sorted(family.recipes.items())
                        if recipe.pretrain_steps)


def models_with_batch_norm(family):
    """"gan": the models whose generator has batch norm ("" if none)."""
    return " and ".join(name for name, recipe in sorted(family.recipes.items()) if recipe.batch_norm)
