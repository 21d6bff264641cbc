"""Issue 29: each train setting is one entry of ``common.settings.TRAIN_SETTINGS``, and argparse,
``config.json`` (``RunConfig``), ``--resume``'s checks and the model builder are made from it."""

import dataclasses
import inspect

import pytest

from common import cli as common_cli
from common.adversarial import AdversarialModel, build_model
from common.settings import SETTINGS, TRAIN_SETTINGS, Preset, RunConfig
from genface import cli as face_cli
from genmnist import cli as mnist_cli


def _options(family):
    parser = common_cli.build_parser(family)
    train = next(action for action in parser._subparsers._group_actions[0].choices.items() if action[0] == "train")[1]
    return {action.dest: action for action in train._actions}


@pytest.mark.parametrize("family", [mnist_cli.family(), face_cli.family()], ids=["genmnist", "genface"])
def test_train_offers_each_setting_of_the_table_with_no_default_of_its_own(family):
    options = _options(family)
    for setting in TRAIN_SETTINGS:
        if not setting.offered(family):
            assert setting.name not in options
            continue
        action = options[setting.name]
        assert action.option_strings[0] == setting.option
        assert action.default is None  # the preset's, the recorded or the table's value stands in
    assert {"resume", "out"} <= set(options)


def test_config_json_records_exactly_the_recorded_settings():
    fields = {field.name: field for field in dataclasses.fields(RunConfig)}
    for setting in TRAIN_SETTINGS:
        assert (setting.name in fields) == setting.recorded, setting.name
    assert set(RunConfig.FIXED_ON_RESUME) == {s.name for s in TRAIN_SETTINGS if s.recorded and not s.on_resume}
    assert "steps" not in RunConfig.FIXED_ON_RESUME and "seed" in RunConfig.FIXED_ON_RESUME


def test_the_model_builder_takes_every_setting_marked_as_building_the_model():
    model_parameters = inspect.signature(AdversarialModel.__init__).parameters
    builder_parameters = inspect.signature(build_model).parameters
    for setting in TRAIN_SETTINGS:
        if setting.builds == "model":
            assert setting.name in model_parameters and setting.name in builder_parameters, setting.name
        elif setting.builds == "compile":
            assert setting.name in builder_parameters, setting.name
    config = RunConfig(model="gan", fidelity="fixed", seed=3, batch_size=8, learning_rate=1e-3, steps=1, z_dim=100,
                       image_shape=(28, 28, 1), ema_decay=0.99)
    arguments = config.model_arguments()
    assert arguments == {"seed": 3, "fidelity": "fixed", "learning_rate": 1e-3, "stable_losses": True,
                         "ema_decay": 0.99, "precision": "float32", "jit_compile": False,
                         "fused_discriminator": False}


def test_a_preset_may_set_only_settings_of_the_table_and_known_recipe_fields():
    Preset("ok", "gan", "", settings=(("batch_size", 8),), recipe_changes=(("loss", "hinge"),))
    with pytest.raises(ValueError, match="'batch_sise' is neither a train setting"):
        Preset("typo", "gan", "", settings=(("batch_sise", 8),))
    with pytest.raises(ValueError, match="'batch_norm' is neither"):
        Preset("deep", "gan", "", recipe_changes=(("batch_norm", True),))


def test_every_setting_has_help_and_a_new_run_value():
    family = mnist_cli.family()
    recipe = family.recipes["gan"]
    chosen = {"fidelity": "fixed"}
    for setting in TRAIN_SETTINGS:
        text = setting.help(family) if callable(setting.help) else setting.help
        assert len(text) > 20, setting.name
    assert SETTINGS["steps"].new_run_value(recipe, chosen) == recipe.default_steps
    assert SETTINGS["stable_losses"].new_run_value(recipe, chosen) is True
    assert SETTINGS["stable_losses"].new_run_value(recipe, {"fidelity": "legacy"}) is False
    assert 0 <= SETTINGS["seed"].new_run_value(recipe, chosen) < 2 ** 31
