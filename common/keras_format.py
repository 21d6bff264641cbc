"""How a GAN travels in Keras' ``.keras`` format: its config names the recipe by key (the
recipe holds functions, which JSON cannot), with the fields changed from it; its compile
config holds both optimisers. Loading looks the key up among the recipes the programs
registered (:mod:`common.recipes`), so a file cannot name a module to import.
"""

import dataclasses
import inspect

import keras

from common.recipes import lookup_recipe, recipe_changes, recipe_key
from common.settings import TRAIN_SETTINGS

MODEL_SETTINGS = tuple(setting.name for setting in TRAIN_SETTINGS if setting.builds == "model")


class SavedByRecipeName:
    """A base of :class:`common.adversarial.AdversarialModel`: its ``.keras`` config."""

    def get_config(self):
        config = {"name": self.name, "recipe": recipe_key(self.recipe),
                  "recipe_changes": recipe_changes(self.recipe), "fidelity": self.fidelity,
                  "seed": self.seed, "run_config": self.run_config}
        # The model's other settings (common.settings.TRAIN_SETTINGS), written only where they
        # differ from the constructor's default, so default configs read as they always did.
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name in config or parameter.default is inspect.Parameter.empty or name not in MODEL_SETTINGS:
                continue
            if getattr(self, name) != parameter.default:
                config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        recipe = lookup_recipe(config.pop("recipe"))
        changes = config.pop("recipe_changes", None) or {}
        changes = {key: tuple(value) if isinstance(getattr(recipe, key), tuple) else value
                   for key, value in changes.items()}
        recipe = dataclasses.replace(recipe, **changes) if changes else recipe
        for key in ("trainable", "dtype"):
            config.pop(key, None)
        return cls(recipe, **config)

    def get_compile_config(self):
        if not getattr(self, "d_optimizer", None):
            return {}
        return {"d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer)}

    def compile_from_config(self, config):
        if config:
            d_optimizer = keras.saving.deserialize_keras_object(config["d_optimizer"])
            g_optimizer = keras.saving.deserialize_keras_object(config["g_optimizer"])
            self.compile(d_optimizer=getattr(d_optimizer, "inner_optimizer", d_optimizer),
                         g_optimizer=getattr(g_optimizer, "inner_optimizer", g_optimizer))
