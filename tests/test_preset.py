"""Issue 14: ``train --preset best``, a recipe beyond the original's: what it sets, what it
lets the command line override, and that a run records it and resumes from the record."""

import pytest

from common import cli as common_cli
from common import commands
from common.errors import UserError
from common.run import RunFolder
from common.settings import RunConfig
from genmnist.cli import family, main
from genmnist.models import PRESETS, RECIPES
from tests.helpers import one_line, status_of


@pytest.fixture(scope="module")
def preset_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("preset") / "best")
    assert main(["train", "--preset", "best", "--steps", "3", "--eval-every", "0", "--seed", "2", "--out", out]) == 0
    return out


def test_the_preset_records_its_settings_and_recipe_changes(preset_run):
    config = RunFolder.open(preset_run, RECIPES).config
    best = PRESETS["best"]
    assert (config.model, config.fidelity, config.batch_size, config.learning_rate, config.ema_decay) == \
        ("gan", "fixed", 64, 0.0005, 0.999)
    assert best.model == "gan"
    assert [best.default(name) for name in ("fidelity", "batch_size", "learning_rate", "ema_decay")] == \
        ["fixed", 64, 0.0005, 0.999]
    assert config.preset == "best"
    assert config.recipe_changes == {"loss": "hinge", "r1_weight": 1.0, "pretrain_steps": 0, "beta1": 0.5}
    assert config.steps == 3  # --steps given beside the preset wins


def test_the_preset_run_builds_the_changed_recipe(preset_run):
    model = RunFolder.open(preset_run, RECIPES).load_model(RECIPES)
    assert model.recipe.loss == "hinge" and model.recipe.r1_weight == 1.0 and model.recipe.pretrain_steps == 0
    assert model.iteration == 3  # no warm-up: three steps are three iterations
    assert float(model.d_optimizer.beta_1) == 0.5 and float(model.g_optimizer.beta_1) == 0.5
    assert model.ema_variables


def test_a_preset_run_resumes_without_naming_the_preset_and_refuses_another(preset_run, tmp_path, capsys):
    assert main(["train", "--resume", "--steps", "4", "--eval-every", "0", "--out", preset_run]) == 0
    assert "resuming from" in capsys.readouterr().out
    assert RunFolder.open(preset_run, RECIPES).config.steps_done == 4
    plain = str(tmp_path / "plain")
    assert main(["train", "--steps", "1", "--batch-size", "8", "--seed", "1", "--out", plain]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", "--preset", "best", "--out", plain]) == 2
    assert "--preset best contradicts the run's preset None" in one_line(capsys.readouterr().err)


def test_eval_every_defaults_to_the_presets_and_can_be_switched_off(preset_run):
    run = RunFolder.open(preset_run, RECIPES)
    parse = common_cli.build_parser(family()).parse_args
    preset = family().presets[run.config.preset]
    assert commands._chosen(parse(["train", "--out", "x"]), "eval_every", preset) == 1000
    assert preset.default("eval_every") == 1000
    assert commands._chosen(parse(["train", "--eval-every", "0", "--out", "x"]), "eval_every", preset) == 0


@pytest.mark.parametrize("argv, message", [
    (["--model", "wgan"], "--preset best trains --model gan, not wgan; drop --model or the preset"),
    (["--fidelity", "legacy"], "--preset best builds on fixed fidelity, not legacy; drop --fidelity or the preset"),
])
def test_a_contradicting_model_or_fidelity_is_refused(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--preset", "best", *argv, "--out", str(out)]) == 2
    assert one_line(capsys.readouterr().err).endswith(message)
    assert not out.exists()


def test_an_unknown_preset_is_a_usage_error(tmp_path, capsys):
    assert status_of(main, ["train", "--preset", "fastest", "--out", str(tmp_path / "r")]) == 2
    assert "invalid choice: 'fastest' (choose from 'best')" in capsys.readouterr().err


@pytest.mark.parametrize("changes, message", [
    ({"batch_norm": True}, "'recipe_changes'"),
    ({"loss": "least-squares"}, "a loss among ['hinge', 'minimax', 'wasserstein']"),
])
def test_recorded_recipe_changes_are_checked(changes, message):
    recipe = RECIPES["gan"]
    raw = RunConfig(model="gan", fidelity="fixed", z_dim=100, image_shape=recipe.image_shape, seed=0,
                    batch_size=8, learning_rate=1e-3, steps=1, recipe_changes=changes).to_dict()
    with pytest.raises(UserError, match="recipe_changes") as error:
        RunConfig.from_dict(raw)
    assert message in str(error.value)
