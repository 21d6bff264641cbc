"""What makes one of the original's models different from the others, as data, and where
the programs register theirs.

A :class:`Recipe` holds the handful of facts in which the original's three training loops
differed (see :mod:`common.adversarial`). Each program registers its recipes here
(:func:`register_recipes`, called by ``genmnist.models`` and ``genface.models``), so that
``common`` never imports a program: a ``.keras`` file names its recipe by key
(``"genmnist.models:gan"``) and loading it looks the key up among the registered ones, so a
file cannot make the loader import a module of its choosing and Keras' safe mode stays
meaningful.
"""

import dataclasses
from typing import Callable

FIDELITIES = ("legacy", "fixed")
# The compute precisions a model can be built with (Keras dtype policies). Variables stay
# float32 in all of them; the mixed ones compute layers in 16 bits, losses in float32.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that makes one of the original's models different from the others."""

    name: str
    z_dim: int
    image_shape: tuple
    build_generator: Callable
    build_discriminator: Callable
    loss: str  # a key of losses.ADVERSARIAL_LOSSES: "minimax", "wasserstein" or "hinge"
    discriminator_steps: int
    pretrain_steps: int
    share_z: bool  # the generator step reuses the last discriminator step's z
    default_steps: int
    default_batch_size: int
    default_learning_rate: float
    beta1: float
    beta2: float = 0.999
    penalty_weight: float = 0.0  # of the WGAN-GP gradient penalty; 0: no penalty
    r1_weight: float = 0.0  # gamma of the R1 penalty on real images (losses.r1_penalty); 0: none
    # Quirk Q3: the vanilla GAN's tanh generator was trained on [0, 1] data. In fixed
    # fidelity its data is scaled to [-1, 1] and its outputs mapped back.
    symmetric_data_when_fixed: bool = False
    sample_prefix: str = "sample"
    batch_norm: bool = False
    description: str = ""

    # The warm-up offset, here alone: a run counts global steps (the data stream, the random
    # draws, the checkpoints' numbers), the original's loop counted iterations after the
    # discriminator-only warm-up.

    def iteration_of(self, step):
        """The original's loop index at global step ``step`` (negative during the warm-up)."""
        return step - self.pretrain_steps

    def step_of(self, iteration):
        """The global step at which the original's iteration ``iteration`` runs."""
        return iteration + self.pretrain_steps

    def generator_images(self, outputs, fidelity):
        """Generator outputs to images in [0, 1] (unclipped: the writer clips)."""
        if self.symmetric_data_when_fixed and fidelity == "fixed":
            return (outputs + 1.0) / 2.0
        return outputs


# --- the registry --------------------------------------------------------------------------

_REGISTERED = {}


def recipe_key(recipe):
    """``"module:name"`` of a recipe, from the module its generator builder lives in."""
    return f"{recipe.build_generator.__module__}:{recipe.name}"


def register_recipes(recipes):
    """Make a program's recipes (``{name: Recipe}``) known by key; returns them."""
    for recipe in recipes.values():
        _REGISTERED[recipe_key(recipe)] = recipe
    return recipes


def lookup_recipe(key):
    """The registered recipe called ``key`` (see :func:`recipe_key`)."""
    key = str(key)
    if key not in _REGISTERED:
        module = key.partition(":")[0]
        raise ValueError(f"unknown recipe {key!r}: registered are {sorted(_REGISTERED)}; import the program "
                         f"that defines it ({module}) before loading")
    return _REGISTERED[key]


def recipe_changes(recipe):
    """The plain fields in which ``recipe`` differs from its registered original (JSON-ready)."""
    registered = lookup_recipe(recipe_key(recipe))
    changes = {}
    for field in dataclasses.fields(recipe):
        value, original = getattr(recipe, field.name), getattr(registered, field.name)
        if value == original:
            continue
        if callable(value) or not isinstance(value, (int, float, str, bool, tuple)):
            raise ValueError(f"recipe {recipe.name!r}: field {field.name} differs from the "
                             f"registered recipe and cannot be saved")
        changes[field.name] = list(value) if isinstance(value, tuple) else value
    return changes


# --- the model's settings, checked ------------------------------------------------------------


def check_fidelity(fidelity):
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    return fidelity


def check_precision(precision):
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return precision
