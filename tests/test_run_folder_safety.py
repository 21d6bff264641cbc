"""A run's files are never destroyed or rewritten behind the user's back (issue 27): run
folders half there, folders that are no run of ours, hand-edited settings, and the
messages that must name the real cause.

The runs are the committed tiny fixtures (``tests/fixtures/run_folders``), so every case
takes seconds.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import pytest

from common import cli
from common.errors import UserError
from common.run import RunFolder
from genmnist import EMBEDDED
from genmnist import cli as genmnist_cli
from tests.fixtures.tiny_models import TINY_RECIPES

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "run_folders")


def family():
    return dataclasses.replace(genmnist_cli.family(), recipes=TINY_RECIPES)


def run_cli(argv, capsys):
    status = cli.main(family(), argv)
    said = capsys.readouterr()
    return status, said.out, said.err


def refusal(err):
    """The one error line a refused command printed: its last line (notes on the checkpoint
    chosen may come before it)."""
    assert "Traceback" not in err and "internal error" not in err
    lines = err.strip().splitlines()
    assert [line for line in lines if ": error:" in line] == lines[-1:], err
    return lines[-1]


def snapshot(folder):
    """{relative path: bytes} of every file under ``folder``; a run's own lock file aside
    (every train of a run takes it, and it says only who trains the run)."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            if name == ".lock" and os.path.exists(os.path.join(root, "config.json")):
                continue
            with open(path, "rb") as handle:
                files[os.path.relpath(path, folder)] = handle.read()
    return files


def config_of(folder):
    with open(os.path.join(folder, "config.json")) as handle:
        return json.load(handle)


def write_config(folder, config):
    with open(os.path.join(folder, "config.json"), "w") as handle:
        json.dump(config, handle)


@pytest.fixture
def run_with_best(tmp_path):
    """The tiny GAN fixture (seed 3, batch 8, iterations 2 and 3 in checkpoints/) with its
    iteration-2 checkpoint kept as best/, as train --eval-every keeps one."""
    out = shutil.copytree(os.path.join(FIXTURES, "gan"), str(tmp_path / "gan"))
    os.makedirs(os.path.join(out, "best"))
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(os.path.join(out, "checkpoints", "ckpt-32" + suffix), os.path.join(out, "best"))
    config = config_of(out)
    config["best"] = {"iteration": 2, "step": 32, "frechet_distance": 50.0}
    write_config(out, config)
    return out


@pytest.fixture(scope="module")
def full_size_gan(tmp_path_factory):
    """A run folder of the real vanilla GAN at its initial weights (no training: what matters
    is the network its checkpoint holds)."""
    from common.adversarial import build_model
    from common.settings import RunConfig
    from genmnist.models import RECIPES
    from tests.helpers import run_config

    out = str(tmp_path_factory.mktemp("full") / "gan")
    run = RunFolder.create(out, RunConfig.from_dict(run_config("gan")))
    run.save(build_model(RECIPES["gan"], seed=5))
    return out


# --- run folders half there ------------------------------------------------------------------


def test_a_bare_resume_with_checkpoints_gone_resumes_from_best_and_keeps_it(run_with_best, capsys):
    shutil.rmtree(os.path.join(run_with_best, "checkpoints"))
    best_files = snapshot(os.path.join(run_with_best, "best"))
    status, out, _ = run_cli(["train", "--resume", "--steps", "4", "--out", run_with_best], capsys)
    assert status == 0
    assert "resuming" in out and "best/ckpt-32" in out and "starting the run" not in out
    assert snapshot(os.path.join(run_with_best, "best")) == best_files  # never deleted
    config = config_of(run_with_best)
    assert (config["seed"], config["batch_size"], config["steps_done"]) == (3, 8, 4)  # as recorded
    assert os.listdir(os.path.join(run_with_best, "checkpoints"))


def test_generate_latest_falls_back_to_best_when_checkpoints_are_gone(run_with_best, tmp_path, capsys):
    shutil.rmtree(os.path.join(run_with_best, "checkpoints"))
    status, _, err = run_cli(["generate", "--run", run_with_best, "--checkpoint", "latest", "-n", "4",
                              "--out", str(tmp_path / "x.npz")], capsys)
    assert status == 0 and "using the best checkpoint" in err


def test_a_resume_with_every_checkpoint_gone_is_refused_and_touches_nothing(run_with_best, capsys):
    shutil.rmtree(os.path.join(run_with_best, "checkpoints"))
    shutil.rmtree(os.path.join(run_with_best, "best"))
    before = snapshot(run_with_best)
    status, _, err = run_cli(["train", "--resume", "--steps", "4", "--out", run_with_best], capsys)
    line = refusal(err)
    assert status == 2 and "records 3 trained iterations" in line and "no checkpoint is left" in line
    assert snapshot(run_with_best) == before
    # and a new run in its place is refused too: its samples and logs would go
    status, _, err = run_cli(["train", "--steps", "4", "--out", run_with_best], capsys)
    assert status == 2 and snapshot(run_with_best) == before


def test_a_bare_resume_before_the_first_checkpoint_keeps_the_recorded_settings(tmp_path, capsys):
    out = str(tmp_path / "killed")
    os.makedirs(out)
    config = config_of(os.path.join(FIXTURES, "gan"))
    config.update(steps_done=0, global_step=0, batch_size=4, learning_rate=0.002, seed=11)  # kill -9 left this
    write_config(out, config)
    status, stdout, _ = run_cli(["train", "--resume", "--steps", "1", "--out", out], capsys)
    assert status == 0 and "starting the run again with the settings its config.json records" in stdout
    kept = config_of(out)
    assert (kept["batch_size"], kept["learning_rate"], kept["seed"]) == (4, 0.002, 11)
    assert kept["steps_done"] == 1


def test_a_resume_before_the_first_checkpoint_refuses_a_contradicting_option(tmp_path, capsys):
    out = str(tmp_path / "killed")
    os.makedirs(out)
    config = config_of(os.path.join(FIXTURES, "gan"))
    config.update(steps_done=0, global_step=0, seed=11)
    write_config(out, config)
    before = snapshot(out)
    status, _, err = run_cli(["train", "--resume", "--seed", "12", "--steps", "1", "--out", out], capsys)
    assert status == 2 and "--seed 12 contradicts the run's seed 11" in refusal(err)
    assert snapshot(out) == before


@pytest.mark.parametrize("contents", [
    {"config.json": '{"learning_rate": 0.1, "layers": 3}'},    # somebody else's settings
    {"config.json": "not json at all"},
    {"notes.txt": "my thesis", "results": None},                # a folder of other things
    {"checkpoints/ckpt-5.index": "", "checkpoints/ckpt-5.data-00000-of-00001": ""},  # config.json gone
], ids=["foreign config.json", "unreadable config.json", "other files", "checkpoints without config.json"])
@pytest.mark.parametrize("command", [["train", "--steps", "1"], ["train", "--resume", "--steps", "1"]],
                         ids=["train", "train --resume"])
def test_train_refuses_an_out_folder_that_is_no_run_and_leaves_it_as_it_was(tmp_path, capsys, contents,
                                                                            command):
    out = tmp_path / "theirs"
    for name, text in contents.items():
        path = out / name
        if text is None:
            path.mkdir(parents=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    before = snapshot(str(out))
    status, _, err = run_cli([*command, "--out", str(out)], capsys)
    line = refusal(err)
    assert status == 2 and str(out) in line
    assert snapshot(str(out)) == before and sorted(os.listdir(out)) == sorted(
        {name.split("/")[0] for name in contents})  # not even a .lock


def test_an_empty_folder_and_a_new_path_are_accepted(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        status, _, _ = run_cli(["train", "--steps", "1", "--batch-size", "8", "--out", str(out)], capsys)
        assert status == 0 and (out / "config.json").exists()


def test_commands_that_read_a_run_name_a_missing_config_json(run_with_best, tmp_path, capsys):
    os.remove(os.path.join(run_with_best, "config.json"))
    status, _, err = run_cli(["generate", "--run", run_with_best, "--out", str(tmp_path / "x.png")], capsys)
    line = refusal(err)
    assert status == 2 and "holds checkpoints but no config.json" in line and "put back config.json" in line


# --- config.json edited by hand: blame it, not the checkpoints ----------------------------------


@pytest.mark.parametrize("key, value, fix", [
    ("model", "wgan", '"model": "gan"'),
    ("fidelity", "fixed", '"fidelity": "legacy"'),
    ("z_dim", 64, '"z_dim": 100'),
])
def test_a_hand_edited_config_is_named_with_the_value_that_fits(full_size_gan, tmp_path, capsys, key, value, fix):
    run = shutil.copytree(full_size_gan, str(tmp_path / "gan"))
    config = config_of(run)
    config[key] = value
    write_config(run, config)
    status = genmnist_cli.main(["generate", "--run", run, "--out", str(tmp_path / "x.png")])
    line = refusal(capsys.readouterr().err)
    assert status == 2 and "config.json" in line and f"Put back {fix}" in line
    assert "none of its checkpoints loads" not in line


def test_a_hand_edited_model_prints_no_tensorflow_warnings_after_the_error(full_size_gan, tmp_path):
    """In a process of its own: TensorFlow's warnings about unrestored values come from its
    logger when the failed checkpoint objects are collected, which capsys does not see."""
    run = shutil.copytree(full_size_gan, str(tmp_path / "gan"))
    config = config_of(run)
    config["model"] = "wgan"
    write_config(run, config)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    done = subprocess.run([sys.executable, "-m", "genmnist", "generate", "--run", run,
                           "--out", str(tmp_path / "x.png")], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    after = done.stderr.split("genmnist: error:", 1)[1]
    assert "config.json" in after and "WARNING" not in after and len(after.strip().splitlines()) == 1
    assert "WARNING:tensorflow" not in done.stderr


# --- messages that point at the real cause and a fix that exists --------------------------------


def test_import_tf1_on_a_port_run_says_it_needs_no_import(run_with_best, tmp_path, capsys):
    for given in (run_with_best, os.path.join(run_with_best, "checkpoints"),
                  os.path.join(run_with_best, "checkpoints", "ckpt-33")):
        status, _, err = run_cli(["import-tf1", given, "--out", str(tmp_path / "imported")], capsys)
        line = refusal(err)
        assert status == 2 and "needs no import" in line and f"--run {run_with_best}" in line
        assert "--model" not in line
    assert not (tmp_path / "imported").exists()


def test_import_keras_into_a_trained_run_does_not_suggest_resume(full_size_gan, tmp_path, capsys):
    keras_file = str(tmp_path / "gan.keras")
    assert genmnist_cli.main(["export", "--format", "keras", "--run", full_size_gan, "--out", keras_file]) == 0
    before = snapshot(full_size_gan)
    capsys.readouterr()
    status = genmnist_cli.main(["import-keras", "--file", keras_file, "--out", full_size_gan])
    line = refusal(capsys.readouterr().err)
    assert status == 2 and "already holds a trained run" in line and "--resume" not in line
    assert snapshot(full_size_gan) == before


def test_genface_compare_does_not_suggest_a_model_genface_lacks(capsys, tmp_path):
    import tensorflow as tf

    from common.adversarial import build_model
    from common.legacy_tf1 import checkpoints
    from genface import cli as genface_cli
    from genmnist.models import RECIPES

    # the names and shapes of the original vanilla GAN's saver checkpoint, values irrelevant
    prefix = str(tmp_path / "original_gan")
    model = build_model(RECIPES["gan"], seed=0)
    names = {name: tf.zeros(shape) for name, shape in checkpoints.tf1_shapes(model).items()}
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=list(names), shape_and_slices=[""] * len(names),
                      tensors=list(names.values()))
    status = genface_cli.main(["compare", "--model", "face", prefix])
    line = refusal(capsys.readouterr().err)
    assert status == 2 and "'gan' model" in line and "genmnist" in line and "--model gan" not in line


def test_a_gif_too_long_for_its_frame_timing_is_refused_up_front(run_with_best, tmp_path, capsys):
    out = tmp_path / "i.gif"
    status, _, err = run_cli(["generate", "--run", run_with_best, "--interpolate", "10000", "--out", str(out)],
                             capsys)
    line = refusal(err)
    assert status == 2 and "--interpolate 10000" in line and ".npz" in line and not out.exists()


def test_a_run_of_the_other_program_is_named_as_such(tmp_path, capsys):
    out = shutil.copytree(os.path.join(FIXTURES, "gan"), str(tmp_path / "gan"))
    config = config_of(out)
    config["model"] = "face"
    write_config(out, config)
    status, _, err = run_cli(["generate", "--run", out, "--out", str(tmp_path / "x.png")], capsys)
    assert status == 2 and "a run of model 'face'" in refusal(err) and "program that trained it" in err


def test_resume_moved_data_is_still_checked_against_the_run(run_with_best, tmp_path, capsys):
    """Inputs that change between two commands on the same run: a --data that contradicts
    the recorded one is refused while the recorded one exists."""
    config = config_of(run_with_best)
    digits = str(tmp_path / "digits.npz")
    shutil.copy(EMBEDDED, digits)
    config["data"] = digits
    write_config(run_with_best, config)
    status, _, err = run_cli(["train", "--resume", "--data", "keras", "--steps", "4", "--out", run_with_best],
                             capsys)
    assert status == 2 and "contradicts the run's data" in refusal(err)


def test_checking_a_folder_never_changes_it(run_with_best):
    before = snapshot(run_with_best)
    assert RunFolder.find(run_with_best, TINY_RECIPES).config.seed == 3
    assert snapshot(run_with_best) == before
    with pytest.raises(UserError, match="not empty"):
        RunFolder.find(os.path.dirname(run_with_best), TINY_RECIPES)


# --- inputs that change between two commands on the same run ------------------------------------


def test_a_resume_on_changed_data_says_so(tmp_path, capsys):
    import numpy as np

    digits = tmp_path / "digits.npz"
    rng = np.random.default_rng(0)
    np.savez(digits, x=rng.integers(0, 256, (64, 28, 28, 1), dtype=np.uint8))
    out = str(tmp_path / "run")
    argv = ["train", "--steps", "1", "--batch-size", "8", "--seed", "1", "--data", str(digits), "--out", out]
    assert run_cli(argv, capsys)[0] == 0
    recorded = config_of(out)["data_fingerprint"]
    assert recorded["images"] == 64
    status, _, err = run_cli(["train", "--resume", "--steps", "2", "--out", out], capsys)
    assert status == 0 and "warning" not in err  # the same data: nothing to say
    np.savez(digits, x=rng.integers(0, 256, (48, 28, 28, 1), dtype=np.uint8))  # replaced under the run
    status, _, err = run_cli(["train", "--resume", "--steps", "3", "--out", out], capsys)
    assert status == 0 and "training data" in err and "has changed since the run started (64 images then, 48 now" in err
    assert config_of(out)["data_fingerprint"]["images"] == 48  # said once, not at every later resume


def test_evaluate_warns_that_a_small_sample_is_not_comparable(run_with_best, capsys):
    status, _, err = run_cli(["evaluate", "--run", run_with_best, "-n", "10"], capsys)
    assert status == 0
    assert "warning: 10 samples scored against" in err and "comparable only at equal counts" in err


def test_a_run_resumed_from_best_that_diverges_names_best_as_kept(run_with_best):
    from common.callbacks import TrainingDiverged, TrainingMonitor

    shutil.rmtree(os.path.join(run_with_best, "checkpoints"))
    run = RunFolder.open(run_with_best, TINY_RECIPES)
    model = run.build_model(TINY_RECIPES)
    monitor = TrainingMonitor(run, run.manager(model), 10, None)
    monitor.set_model(model)
    monitor.diverge(3, "losses (d_loss inf) are not finite")
    with pytest.raises(TrainingDiverged, match=r"the last good checkpoint is kept \(the best, .*best/ckpt-32\)"):
        monitor.raise_if_diverged(run.manager(model))
