"""No internal errors from a value argparse accepts (issue 27): a count too large to serve is
refused up front, in one line naming the option, before anything is drawn or allocated.

The limits come from the memory the system says it can give; each test sets that to 1 GiB,
so the cases hold on any machine.
"""

import dataclasses
import os
import shutil

import pytest

from common import cli, resources
from genface import cli as genface_cli
from genmnist import cli as genmnist_cli
from tests.fixtures.tiny_models import TINY_RECIPES

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "run_folders")


@pytest.fixture(autouse=True)
def one_gibibyte(monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 2 ** 30)


@pytest.fixture
def run(tmp_path):
    return shutil.copytree(os.path.join(FIXTURES, "wgan"), str(tmp_path / "wgan"))


def tiny(argv):
    return cli.main(dataclasses.replace(genmnist_cli.family(), recipes=TINY_RECIPES), argv)


def refusal(err, *needles):
    assert "internal error" not in err and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert ": error:" in line, err
    for needle in needles:
        assert needle in line, line
    return line


@pytest.mark.parametrize("extra, needle", [
    (["-n", "1000000000000", "--out", "a.png"], "a smaller -n"),
    (["-n", "1000000000", "--out", "a.npz"], "a smaller -n"),
    (["--interpolate", "3", "-n", "1000000000", "--out", "a.npz"], "--interpolate K"),
])
def test_generate_refuses_a_count_too_large_for_memory(run, tmp_path, capsys, extra, needle):
    extra = [str(tmp_path / value) if value.startswith("a.") else value for value in extra]
    assert tiny(["generate", "--run", run, *extra]) == 2
    refusal(capsys.readouterr().err, "GiB of memory", needle)
    assert not any(name.startswith("a.") for name in os.listdir(tmp_path))


def test_evaluate_refuses_a_count_too_large_for_memory(run, capsys):
    assert tiny(["evaluate", "--run", run, "-n", "1000000000000"]) == 2
    refusal(capsys.readouterr().err, "scoring -n 1000000000000 images", "a smaller -n")


def test_export_refuses_more_reestimation_samples_than_memory_holds(tmp_path, capsys):
    run = shutil.copytree(os.path.join(FIXTURES, "gan"), str(tmp_path / "gan"))  # legacy: re-estimated
    assert tiny(["export", "--run", run, "--out", str(tmp_path / "exported"), "--samples", "100000000000"]) == 2
    refusal(capsys.readouterr().err, "--samples 100000000000")
    assert not (tmp_path / "exported").exists()


@pytest.mark.parametrize("argv, needle", [
    (["--iterations", "100000000000"], "at most 100000 steps"),
    (["--warm-up-steps", "100000000000", "--iterations", "0"], "at most 100000 steps"),
    (["--warm-up-steps", "1000", "--iterations", "0", "--batch-size", "1000000"], "a smaller --batch-size"),
])
def test_compare_refuses_more_steps_or_images_than_it_can_hold(capsys, argv, needle):
    assert genmnist_cli.main(["compare", *argv]) == 2
    refusal(capsys.readouterr().err, needle)


def test_faces_refuse_more_drawn_faces_than_memory_holds(tmp_path, capsys):
    assert genface_cli.main(["train", "--data", "cartoon:100000000000", "--steps", "1",
                             "--out", str(tmp_path / "faces")]) == 2
    refusal(capsys.readouterr().err, "--data cartoon:100000000000")
    assert not (tmp_path / "faces").exists()


def test_export_tf1_refuses_a_folder_as_its_prefix(run, tmp_path, capsys):
    run = shutil.copytree(os.path.join(FIXTURES, "gan"), str(tmp_path / "gan"))
    folder = tmp_path / "tf1"
    folder.mkdir()
    assert tiny(["export-tf1", "--run", run, "--out", str(folder) + os.sep]) == 2
    refusal(capsys.readouterr().err, "a folder", os.path.join(str(folder), "model"))
    assert os.listdir(folder) == []
