"""Legacy fidelity trains as the original wrote it (GitHub issue 18); the corrections are named.

Q8: the vanilla GAN's losses are the log of sigmoid outputs, so a run can diverge as the
original's did; ``--stable-losses`` (and fixed fidelity) computes them from logits. Q6: the
data order is the original's, one shuffle replayed; ``--reshuffle`` (and fixed fidelity)
draws a fresh order every epoch. Run folders written before these options existed trained
with both corrections and keep them.
"""

import json
import os

import pytest

from common import losses
from common.adversarial import AdversarialModel, build_model
from common.errors import UserError
from common.settings import RunConfig
from genmnist.cli import main
from genmnist.models import GAN
from tests.fixtures.tiny_models import TINY_GAN, TINY_WGAN
from tests.helpers import run_config

AS_WRITTEN = (losses.minimax_discriminator_loss_as_written, losses.non_saturating_generator_loss_as_written)
STABLE = (losses.minimax_discriminator_loss, losses.non_saturating_generator_loss)


def loss_functions(model):
    return model.discriminator_loss_function, model.generator_loss_function


@pytest.mark.parametrize("fidelity, stable_losses, expected", [
    ("legacy", False, AS_WRITTEN), ("legacy", True, STABLE), ("fixed", False, STABLE), ("fixed", True, STABLE)])
def test_the_vanilla_gan_takes_the_log_of_sigmoids_only_in_legacy_fidelity_by_default(
        fidelity, stable_losses, expected):
    # The narrow copy of the recipe: the same model class and losses, built in a fraction of the time.
    assert loss_functions(build_model(TINY_GAN, fidelity=fidelity, stable_losses=stable_losses)) == expected


def test_the_wgan_has_one_loss_either_way():
    assert loss_functions(build_model(TINY_WGAN)) == losses.ADVERSARIAL_LOSSES["wasserstein"]


def test_a_keras_config_keeps_the_stable_losses_choice():
    config = build_model(GAN, stable_losses=True).get_config()
    assert config["stable_losses"] is True
    # A config without the key (every .keras file from before it) loads with the losses as written.
    del config["stable_losses"]
    assert not AdversarialModel.from_config(config).stable_losses


def configure(out, *options):
    """The config.json ``train`` writes for these options (one iteration after the warm-up)."""
    assert main(["train", "--model", "gan", "--steps", "1", "--batch-size", "8", "--seed", "1",
                 *options, "--out", out]) == 0
    return json.load(open(os.path.join(out, "config.json")))


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("legacy") / "run")
    return out, configure(out)


def test_train_keeps_both_quirks_by_default(default_run):
    _, config = default_run
    assert (config["stable_losses"], config["reshuffle"]) == (False, False)


@pytest.mark.slow
@pytest.mark.parametrize("options, expected", [
    (["--stable-losses"], (True, False)),
    (["--reshuffle"], (False, True)),
    (["--fidelity", "fixed"], (True, True)),
])
def test_train_records_which_quirks_it_corrected(tmp_path, options, expected):
    config = configure(str(tmp_path / "run"), *options)
    assert (config["stable_losses"], config["reshuffle"]) == expected


def test_resume_refuses_a_correction_the_run_did_not_train_with(default_run, capsys):
    out, _ = default_run
    before = open(os.path.join(out, "config.json")).read()
    assert main(["train", "--resume", "--reshuffle", "--steps", "2", "--out", out]) == 2
    assert "--reshuffle True contradicts the run's reshuffle False" in capsys.readouterr().err
    assert open(os.path.join(out, "config.json")).read() == before


def test_a_run_folder_from_before_the_options_keeps_both_corrections():
    old = {key: value for key, value in run_config().items() if key not in ("stable_losses", "reshuffle")}
    config = RunConfig.from_dict(old)
    assert config.stable_losses and config.reshuffle
    with pytest.raises(UserError, match="stable_losses"):
        RunConfig.from_dict(dict(old, stable_losses="yes"))
