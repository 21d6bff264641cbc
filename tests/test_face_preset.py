"""Issue 26: ``genface train --preset best``: config.json records the recipe, --resume keeps it,
and its speed options (bfloat16 layers, the fused critic) leave what it learns unchanged
within rounding. Run on the faces recipe with narrow layers (fixtures/tiny_models.py)."""

import dataclasses

import numpy as np
import pytest

from common import cli
from common.latents import sample_latents
from common.run import RunFolder
from genface import cartoon
from genface.cli import family
from genface.models import PRESETS
from tests.fixtures.tiny_models import TINY_FACE_RECIPES
from tests.helpers import one_line

BEST = PRESETS["best"]
STEPS = 12


def tiny_family():
    return dataclasses.replace(family(), recipes=TINY_FACE_RECIPES)


def train(argv):
    return cli.main(tiny_family(), ["train", *argv])


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("preset_faces") / "faces"
    cartoon.write_face_folder(str(folder), 16, seed=4)
    return str(folder)


@pytest.fixture(scope="module")
def preset_run(tmp_path_factory, faces):
    out = str(tmp_path_factory.mktemp("face_preset") / "best")
    assert train(["--preset", "best", "--data", faces, "--steps", "2", "--batch-size", "4", "--eval-every", "0",
                  "--seed", "5", "--out", out]) == 0
    return out


def test_config_json_records_the_presets_settings_and_recipe(preset_run):
    config = RunFolder.open(preset_run, TINY_FACE_RECIPES).config
    assert config.preset == "best" and config.model == BEST.model
    for name, value in BEST.settings:
        if name not in ("batch_size", "steps", "eval_every"):  # given on the command line / not recorded
            assert getattr(config, name) == value, name
    assert (config.batch_size, config.steps) == (4, 2)
    assert config.recipe_changes == BEST.changes
    model = RunFolder.open(preset_run, TINY_FACE_RECIPES).load_model(TINY_FACE_RECIPES)
    for field, value in BEST.recipe_changes:
        assert getattr(model.recipe, field) == value, field
    assert model.precision == "mixed_bfloat16" and model.fused_discriminator and model.ema_variables


def test_resume_keeps_the_preset_and_refuses_to_change_it(preset_run, capsys):
    assert train(["--resume", "--steps", "3", "--eval-every", "0", "--out", preset_run]) == 0
    run = RunFolder.open(preset_run, TINY_FACE_RECIPES)
    assert run.config.steps_done == 3 and run.config.preset == "best"
    assert run.load_model(TINY_FACE_RECIPES).recipe.discriminator_steps == BEST.changes["discriminator_steps"]
    capsys.readouterr()
    assert train(["--resume", "--no-fused-discriminator", "--out", preset_run]) == 2
    assert "--fused-discriminator False contradicts the run's fused_discriminator True" in \
        one_line(capsys.readouterr().err)
    assert train(["--resume", "--precision", "float32", "--out", preset_run]) == 2


def _generated(out):
    model = RunFolder.open(out, TINY_FACE_RECIPES).load_model(TINY_FACE_RECIPES, averaged=False)
    return np.asarray(model.generate(sample_latents(64, model.recipe.z_dim, 0)))


def test_the_presets_speed_options_change_what_it_learns_less_than_another_seed_does(tmp_path, faces):
    """bfloat16 layers and the fused critic round otherwise, and a GAN carries such residues on;
    what matters is that they move the generator less than the seed's own noise does."""
    plain = ["--precision", "float32", "--no-fused-discriminator"]
    runs = {}
    for name, seed, options in (("fast", "5", []), ("plain", "5", plain), ("other_seed", "6", plain)):
        out = str(tmp_path / name)
        assert train(["--preset", "best", "--data", faces, "--steps", str(STEPS), "--batch-size", "4",
                      "--eval-every", "0", "--seed", seed, *options, "--out", out]) == 0
        runs[name] = _generated(out)
    rounding = np.abs(runs["fast"] - runs["plain"]).mean()
    seed_noise = np.abs(runs["other_seed"] - runs["plain"]).mean()
    assert rounding < 0.5 * seed_noise, (rounding, seed_noise)
