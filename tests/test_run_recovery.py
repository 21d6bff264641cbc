"""What a run is left in after it ends badly (signals, divergence, damaged files, bad config),
and that the same command line restarts it (issue 13)."""

import json
import os
import re
import shutil
import signal
import sys

import numpy as np
import pytest
import tensorflow as tf

from common import data, generation, interrupts, resources, training
from common.errors import UserError
from common.run import RunFolder
from genmnist import EMBEDDED
from genmnist.cli import main
from genmnist.models import RECIPES
from tests.helpers import start_training, wait_for

TINY = ["--batch-size", "8", "--seed", "5"]


def status_and_err(argv, capsys):
    status = main(argv)
    return status, capsys.readouterr().err


def one_line(err):
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("genmnist: skipping")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A vanilla GAN run of 4 iterations with a checkpoint after each (3 kept: iterations 2, 3, 4)."""
    out = str(tmp_path_factory.mktemp("recovery") / "gan")
    assert main(["train", "--steps", "4", "--checkpoint-every", "1", *TINY, "--out", out]) == 0
    return out


@pytest.fixture
def copy_of(trained, tmp_path):
    out = str(tmp_path / "gan")
    shutil.copytree(trained, out)
    return out


def steps_in_checkpoints(out):
    return [c.step for c in RunFolder(out, None).checkpoints()]


# --- signals ---------------------------------------------------------------------------------


def start(out, *extra):
    return start_training(out, "--seed", "5", *extra)


def test_sigterm_writes_a_checkpoint_exits_143_and_the_same_command_resumes(tmp_path):
    out = str(tmp_path / "run")
    process = start(out, "--resume")  # the default --checkpoint-every 1000: only SIGTERM saves
    assert "starting the run" in wait_for(process, "iteration 10:")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "stopped by SIGTERM at iteration" in err and "Traceback" not in err
    saved = steps_in_checkpoints(out)
    assert len(saved) == 1 and saved[0] >= 30 + 11
    again = start(out, "--resume")
    assert f"resuming from {os.path.join(out, 'checkpoints', f'ckpt-{saved[0]}')}" in wait_for(again, "resuming from")
    again.kill()
    again.wait()


@pytest.mark.slow  # by default the SIGTERM test and test_training's real-SIGINT resume
def test_ctrl_c_pressed_twice_still_saves_and_exits_130(tmp_path):
    out = str(tmp_path / "run")
    process = start(out)
    wait_for(process, "iteration 10:")
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "stopped by SIGINT" in err and "Traceback" not in err
    assert steps_in_checkpoints(out)


def test_a_signal_before_the_first_step_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise interrupts.Interrupted(signal.SIGINT)

    monkeypatch.setattr(training, "fit_steps", interrupted)
    out = tmp_path / "run"
    assert main(["train", "--steps", "3", *TINY, "--out", str(out)]) == 130
    assert not out.exists()
    assert "stopped by SIGINT" in one_line(capsys.readouterr().err)
    out.mkdir()  # a folder the user made beforehand stays, empty
    assert main(["train", "--steps", "3", *TINY, "--out", str(out)]) == 130
    assert os.listdir(out) == []


# --- resume ----------------------------------------------------------------------------------


def test_resume_starts_a_run_that_has_no_checkpoint_then_continues_it(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--resume", "--steps", "1", *TINY, "--out", out]) == 0
    assert "holds no run yet; starting the run" in capsys.readouterr().out
    assert main(["train", "--resume", "--steps", "2", *TINY, "--out", out]) == 0
    assert "resuming from" in capsys.readouterr().out
    assert json.load(open(os.path.join(out, "config.json")))["steps_done"] == 2


def test_a_folder_left_by_a_kill_before_the_first_checkpoint_is_accepted_by_train_and_resume(
        trained, tmp_path):
    recorded = json.load(open(os.path.join(trained, "config.json")))
    recorded.update(steps_done=0, global_step=0)  # what a kill before the first checkpoint leaves
    for command in (["train"], ["train", "--resume"]):
        out = tmp_path / f"left-{len(command)}"
        out.mkdir()
        (out / "config.json").write_text(json.dumps(recorded))
        (out / "samples").mkdir()
        assert main([*command, "--steps", "1", *TINY, "--out", str(out)]) == 0
        assert steps_in_checkpoints(str(out)) == [31]


@pytest.mark.parametrize("option, value, recorded", [
    ("--model", "wgan", "gan"), ("--fidelity", "fixed", "legacy"), ("--batch-size", "16", "8"),
    ("--learning-rate", "0.001", "0.0005"), ("--seed", "6", "5"), ("--precision", "mixed_bfloat16", "float32"),
    ("--fused-discriminator", None, "False"), ("--data", "keras", "None"),
])
def test_resume_refuses_a_setting_that_contradicts_the_run(trained, capsys, option, value, recorded):
    argv = ["train", "--resume", "--out", trained, option] + ([value] if value else [])
    status, err = status_and_err(argv, capsys)
    assert status == 2
    line = one_line(err)
    assert f"contradicts the run's" in line and f" {recorded} " in line and "config.json" in line


def test_relative_data_is_recorded_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(EMBEDDED, "digits.npz")
    assert main(["train", "--steps", "1", *TINY, "--data", "digits.npz", "--out", "run"]) == 0
    recorded = json.load(open(tmp_path / "run" / "config.json"))["data"]
    assert recorded == str(tmp_path / "digits.npz")
    monkeypatch.chdir("/")
    assert main(["train", "--resume", "--steps", "2", "--out", str(tmp_path / "run")]) == 0


# --- checkpoints by time, and the time limit ---------------------------------------------------


def small_run(tmp_path, name="run", steps=3):
    config = {"model": "gan", "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1], "seed": 2,
              "batch_size": 8, "learning_rate": 0.0005, "data": None, "steps": steps}
    return RunFolder.create(str(tmp_path / name), config)


@pytest.fixture(scope="module")
def digits():
    return data.read_images(EMBEDDED, (28, 28, 1))[:64]


def test_checkpoint_minutes_writes_checkpoints_by_wall_time(tmp_path, digits):
    run = small_run(tmp_path, steps=4)
    training.train(run, RECIPES, digits, 4, checkpoint_every=0, checkpoint_minutes=1e-9, verbose=0,
                   print_fn=lambda *a: None)
    # After iterations 1, 2 and 3 by time, at the end (4) by rule; the manager keeps three.
    assert steps_in_checkpoints(run.path) == [32, 33, 34]


def test_max_minutes_stops_cleanly_with_a_checkpoint_and_resume_goes_on(tmp_path, digits):
    run = small_run(tmp_path, steps=50)
    said = []
    model = training.train(run, RECIPES, digits, 50, max_minutes=1e-9, verbose=0, print_fn=said.append)
    assert int(model.step_counter.numpy()) == 1 and "stopped after" in said[-1]  # after one step
    assert steps_in_checkpoints(run.path) == [1]
    resumed = training.train(RunFolder.open(run.path, RECIPES), RECIPES, digits, 3, resume=True, verbose=0,
                             print_fn=lambda *a: None)
    assert resumed.iteration == 3


def test_the_progress_bar_of_a_run_stopped_early_ends_where_it_stopped(tmp_path, digits, capsys):
    run = small_run(tmp_path, steps=50)
    model = training.train(run, RECIPES, digits, 50, max_minutes=1e-9, verbose=2, print_fn=lambda *a: None)
    done = int(model.step_counter.numpy())
    bar = [line for line in capsys.readouterr().out.splitlines() if "/step" in line]
    # The steps the time limit let through, not the 80 asked for (with the warm-up's 30).
    assert done < 80 and bar and bar[-1].startswith(f"{done}/{done} "), (done, bar)


# --- divergence --------------------------------------------------------------------------------


def test_a_learning_rate_that_diverges_at_once_exits_3_and_the_folder_can_be_restarted(tmp_path, capsys):
    out = str(tmp_path / "run")
    status, err = status_and_err(["train", "--steps", "3", *TINY, "--learning-rate", "1e30", "--out", out],
                                 capsys)
    assert status == 3
    # As the original's losses as written would, they overflow in the warm-up already.
    assert re.search(r"diverged in the warm-up, at discriminator step \d+ of 30: .*not finite", one_line(err))
    assert steps_in_checkpoints(out) == []
    assert main(["train", "--resume", "--steps", "1", *TINY, "--out", out]) == 0


@pytest.mark.parametrize("poison, why", [
    ("kernel", r"(losses \(.*\) are not finite|non-finite values in \d+ variable)"),
    ("moving_mean", r"non-finite values in 1 variable\(s\), e.g. .*moving_mean"),  # seen by the weight check only
])
def test_non_finite_weights_stop_training_and_never_rotate_out_the_good_checkpoints(tmp_path, digits, poison,
                                                                                    why):
    class PoisonAfterIteration6(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.iteration == 7:
                variable = next(v for v in self.model.generator.variables if v.path.endswith(poison))
                variable.assign(tf.fill(variable.shape, np.nan))

    run = small_run(tmp_path, steps=20)
    with pytest.raises(training.TrainingDiverged, match="diverged at iteration 7: " + why) as caught:
        training.train(run, RECIPES, digits, 20, checkpoint_every=2, verbose=0, print_fn=lambda *a: None,
                       callbacks=[PoisonAfterIteration6()])
    assert caught.value.exit_code == 3
    assert steps_in_checkpoints(run.path) == [30 + 2, 30 + 4, 30 + 6]  # none written after the poison
    assert RunFolder.open(run.path, RECIPES).load_model(RECIPES).iteration == 6


@pytest.fixture
def nan_newest(copy_of):
    """The copied run with a newest checkpoint (iteration 5) holding NaN weights, as older versions wrote."""
    run = RunFolder.open(copy_of, RECIPES)
    model = run.load_model(RECIPES)
    model.generator.trainable_variables[0].assign(tf.fill(model.generator.trainable_variables[0].shape, np.nan))
    model.step_counter.assign_add(1)
    manager = tf.train.CheckpointManager(run.checkpoint_of(model), run.checkpoint_dir, max_to_keep=3)
    manager.save(checkpoint_number=35)
    return copy_of


@pytest.mark.parametrize("command", [
    ["generate", "--out", "{tmp}/g.png"], ["export", "--out", "{tmp}/exported"],
    ["export-tf1", "--out", "{tmp}/tf1/model"],
])
def test_commands_refuse_a_checkpoint_with_non_finite_weights_and_name_the_good_one(
        nan_newest, tmp_path, capsys, command):
    argv = [a.format(tmp=tmp_path) for a in command] + ["--run", nan_newest]
    status, err = status_and_err(argv, capsys)
    assert status == 2
    assert "ckpt-35 holds non-finite weights" in one_line(err)
    assert "pass --checkpoint 4" in err
    assert main(argv + ["--checkpoint", "4"]) == 0


# --- damaged files ------------------------------------------------------------------------------


def test_a_truncated_newest_checkpoint_named_by_the_index_is_skipped(copy_of, tmp_path, capsys):
    run = RunFolder.open(copy_of, RECIPES)
    newest = tf.train.get_checkpoint_state(run.checkpoint_dir).model_checkpoint_path
    assert newest.endswith("ckpt-34")  # the index names it
    with open(newest + ".data-00000-of-00001", "r+b") as handle:
        handle.truncate(1000)  # a full disk
    assert main(["generate", "--run", copy_of, "--out", str(tmp_path / "g.png")]) == 0
    err = capsys.readouterr().err
    assert f"skipping {newest}: damaged" in err
    assert main(["train", "--resume", "--steps", "5", "--out", copy_of]) == 0
    assert "resuming from " + os.path.join(run.checkpoint_dir, "ckpt-33") in capsys.readouterr().out
    assert steps_in_checkpoints(copy_of)[-1] == 35


def test_a_lost_checkpoint_index_is_rebuilt_from_the_files(copy_of, capsys):
    os.remove(os.path.join(copy_of, "checkpoints", "checkpoint"))
    assert main(["train", "--resume", "--steps", "5", "--out", copy_of]) == 0
    assert f"ckpt-34 (iteration 4)" in capsys.readouterr().out
    state = tf.train.get_checkpoint_state(os.path.join(copy_of, "checkpoints"))
    assert state.model_checkpoint_path.endswith("ckpt-35")


def test_checkpoint_option_chooses_an_iteration_and_names_those_present(trained, tmp_path, capsys):
    assert main(["generate", "--run", trained, "--checkpoint", "2", "--out", str(tmp_path / "g.png")]) == 0
    status, err = status_and_err(["generate", "--run", trained, "--checkpoint", "9",
                                  "--out", str(tmp_path / "g.png")], capsys)
    assert status == 2 and "iteration 2, iteration 3, iteration 4" in one_line(err)


# --- config.json ------------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    (lambda c: c.pop("batch_size"), "missing key 'batch_size'"),
    (lambda c: c.update(batch_size="many"), "key 'batch_size' is 'many', expected a whole number"),
    (lambda c: c.update(version=7), "configuration version 7"),
    (lambda c: c.update(colour="blue"), "unknown key 'colour'"),
    (lambda c: c.update(fidelity="exact"), "key 'fidelity' is 'exact'"),
])
def test_a_damaged_config_is_one_line_naming_the_file_and_the_key(copy_of, tmp_path, capsys, change, message):
    path = os.path.join(copy_of, "config.json")
    config = json.load(open(path))
    change(config)
    json.dump(config, open(path, "w"))
    for argv in (["generate", "--run", copy_of, "--out", str(tmp_path / "g.png")],
                 ["train", "--resume", "--out", copy_of]):
        status, err = status_and_err(argv, capsys)
        assert status == 2
        line = one_line(err)
        assert path in line and message in line


# --- output paths and generate ------------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("x"), "exists and is not a folder"),
    (lambda p: p.parent.joinpath("file").write_text("x"), "cannot create the run folder"),
])
def test_train_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, make, message):
    target = tmp_path / "out"
    make(target)
    out = str(target) if target.exists() else str(tmp_path / "file" / "run")
    status, err = status_and_err(["train", "--steps", "1", *TINY, "--out", out], capsys)
    assert status == 2 and message in one_line(err)


def test_steps_beyond_any_run_are_refused_before_anything_is_made(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--steps", "100000000000000000000", "--out", str(tmp_path / "run")])
    assert stop.value.code == 2 and not (tmp_path / "run").exists()


def test_generate_n_with_z_must_agree(trained, tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.zeros((5, 100), np.float32))
    base = ["generate", "--run", trained, "--z", str(tmp_path / "z.npy")]
    status, err = status_and_err(base + ["-n", "7", "--out", str(tmp_path / "g.png")], capsys)
    assert status == 2 and "-n 7 contradicts --z" in one_line(err)
    assert main(base + ["-n", "5", "--out", str(tmp_path / "g.npz")]) == 0
    assert np.load(tmp_path / "g.npz")["images"].shape == (5, 28, 28, 1)


def test_complex_latent_vectors_are_refused(trained, tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.zeros((5, 100), np.complex64))
    status, err = status_and_err(["generate", "--run", trained, "--z", str(tmp_path / "z.npy"),
                                  "--out", str(tmp_path / "g.png")], capsys)
    assert status == 2 and "complex" in one_line(err)


def test_generate_with_batch_statistics_warns_below_16_vectors(trained, tmp_path, capsys):
    assert main(["generate", "--run", trained, "-n", "1", "--out", str(tmp_path / "g.png")]) == 0
    assert "warning: batch norm normalises these 1 vector(s) by their own statistics" in capsys.readouterr().err
    assert main(["generate", "--run", trained, "-n", "16", "--out", str(tmp_path / "g.png")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_generate_refuses_up_front_a_batch_statistics_batch_too_large_for_memory(trained, tmp_path, capsys,
                                                                               monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 2 ** 30)
    status, err = status_and_err(["generate", "--run", trained, "-n", "100000",
                                  "--out", str(tmp_path / "g.npz")], capsys)
    assert status == 2
    assert re.search(r"normalises all 100000 vectors as one batch, which would take about [\d.]+ GiB", one_line(err))


def test_generate_without_batch_statistics_runs_in_chunks_with_the_same_images(trained, tmp_path, monkeypatch):
    model = RunFolder.open(trained, RECIPES).load_model(RECIPES)
    z = np.random.default_rng(0).standard_normal((10, 100)).astype(np.float32)
    whole = np.asarray(model.generator_outputs(z, batch_statistics=False))
    monkeypatch.setattr(generation, "GENERATE_CHUNK", 3)
    chunked = generation.generate_outputs(model, z, False, "genmnist")
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-6)


def test_run_config_rejects_a_setting_out_of_range():
    with pytest.raises(UserError, match="key 'seed' is -1"):
        RunFolder.create("/nonexistent/never", {
            "model": "gan", "fidelity": "legacy", "z_dim": 100, "image_shape": [28, 28, 1], "seed": -1,
            "batch_size": 8, "learning_rate": 0.0005, "data": None, "steps": 1})
