"""Every refusal names a fix that exists (issue 27, item 3): one line, exit status 2, and
each option it mentions is one the command it names (or, naming none, the command that
refused) really has.

A wide sweep over the commands of both programs; the specific messages are pinned in the
files of their own features.
"""

import argparse
import dataclasses
import os
import re
import shutil

import numpy as np
import pytest

from common import cli
from genface import cli as genface_cli
from genmnist import cli as genmnist_cli
from tests.fixtures.tiny_models import TINY_RECIPES

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "run_folders")


def mnist_family():
    return dataclasses.replace(genmnist_cli.family(), recipes=TINY_RECIPES)


def options_by_command(family):
    """{command name: the option strings it takes}."""
    parser = cli.build_parser(family)
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return {name: {option for action in sub._actions for option in action.option_strings}
            for name, sub in commands.choices.items()}


def misplaced_options(line, command, options):
    """The options ``line`` mentions that the command it attributes them to lacks.

    An option is attributed to the last command named before it in the same clause
    ("... continue with: genmnist train --resume ..."), else to ``command``.
    """
    wrong = []
    for match in re.finditer(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line):
        clause = re.split(r"[;.]\s|:\s", line[:match.start()])[-1]
        named = [name for name in options if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", clause)]
        owner = max(named, key=lambda name: clause.rfind(name)) if named else command
        if match.group(1) not in options[owner]:
            wrong.append(f"{match.group(1)} (as an option of {owner})")
    return wrong


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("refusals")
    paths = {name: shutil.copytree(os.path.join(FIXTURES, name), str(root / name))
             for name in ("gan", "gan-fixed", "wgan")}
    np.save(root / "four.npy", np.zeros((4, 100), np.float32))
    np.save(root / "three.npy", np.zeros((3, 100), np.float32))
    (root / "theirs").mkdir()
    (root / "theirs" / "config.json").write_text('{"learning_rate": 1}')
    os.makedirs(root / "exported" / "1")
    open(os.path.join(paths["gan"], "existing.index"), "w").close()
    return {**paths, "root": str(root)}


CASES = [
    ["train", "--steps", "2", "--out", "{gan}"],
    ["train", "--resume", "--seed", "9", "--out", "{gan}"],
    ["train", "--resume", "--model", "wgan", "--out", "{gan}"],
    ["train", "--batch-size", "100000", "--steps", "1", "--out", "{root}/new"],
    ["train", "--steps", "1", "--out", "{root}/theirs"],
    ["train", "--steps", "1", "--out", "{root}"],
    ["train", "--steps", "1", "--data", "{root}/missing.npz", "--out", "{root}/new2"],
    ["generate", "--run", "{gan}", "--z", "{root}/four.npy", "--truncation", "1", "--out", "{root}/g.png"],
    ["generate", "--run", "{gan}", "--out", "{root}/g.gif"],
    ["generate", "--run", "{gan}", "--checkpoint", "best", "--out", "{root}/g.png"],
    ["generate", "--run", "{gan}", "--checkpoint", "99", "--out", "{root}/g.png"],
    ["generate", "--run", "{gan}", "-n", "3", "--z", "{root}/four.npy", "--out", "{root}/g.png"],
    ["generate", "--run", "{gan}", "--interpolate", "3", "--z", "{root}/three.npy", "--out", "{root}/g.png"],
    ["generate", "--run", "{gan}", "--interpolate", "5000", "--out", "{root}/g.gif"],
    ["generate", "--run", "{root}/theirs", "--out", "{root}/g.png"],
    ["generate", "--run", "{root}/nowhere", "--out", "{root}/g.png"],
    ["export", "--run", "{gan}", "--format", "keras", "--legacy-batch-stats", "--out", "{root}/m.keras"],
    ["export", "--run", "{gan}", "--format", "keras", "--out", "{root}/m.png"],
    ["export", "--run", "{gan}", "--out", "{root}/exported"],
    ["export", "--run", "{gan}", "--samples", "1", "--out", "{root}/exported2"],
    ["export-tf1", "--run", "{gan-fixed}", "--out", "{root}/tf1/model"],
    ["export-tf1", "--run", "{gan}", "--out", "{gan}/existing"],
    ["import-tf1", "{gan}", "--out", "{root}/imported"],
    ["import-tf1", "{root}/missing", "--out", "{root}/imported"],
    ["import-keras", "--file", "{root}/missing.keras", "--out", "{root}/imported"],
    ["evaluate", "--images", "{root}/missing.npz"],
    ["evaluate", "--run", "{gan}", "-n", "1"],
    ["compare", "--iterations", "100000000"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(case[:3]) for case in CASES])
def test_a_genmnist_refusal_is_one_line_whose_options_exist(runs, capsys, argv):
    family = mnist_family()
    argv = [part.format(**runs) for part in argv]
    status = cli.main(family, argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and "WARNING" not in err
    errors = [line for line in err.strip().splitlines() if ": error:" in line]
    assert errors == err.strip().splitlines()[-1:], err
    assert misplaced_options(errors[0], argv[0], options_by_command(family)) == [], errors[0]


FACE_CASES = [
    ["train", "--data", "cartoon:0", "--steps", "1", "--out", "{root}/faces"],
    ["train", "--model", "face", "--batch-size", "100000", "--data", "cartoon:4", "--steps", "1",
     "--out", "{root}/faces"],
    ["generate", "--run", "{gan}", "--out", "{root}/f.png"],
    ["compare", "--model", "face", "{gan}"],
    ["evaluate", "--images", "{root}/missing.npz"],
]


@pytest.mark.parametrize("argv", FACE_CASES, ids=[" ".join(case[:3]) for case in FACE_CASES])
def test_a_genface_refusal_is_one_line_whose_options_exist(runs, capsys, argv):
    family = genface_cli.family()
    argv = [part.format(**runs) for part in argv]
    status = cli.main(family, argv)
    err = capsys.readouterr().err
    assert status == 2, err
    errors = [line for line in err.strip().splitlines() if ": error:" in line]
    assert errors == err.strip().splitlines()[-1:], err
    assert misplaced_options(errors[0], argv[0], options_by_command(family)) == [], errors[0]


def test_the_option_check_catches_a_fix_the_command_lacks():
    options = options_by_command(mnist_family())
    assert misplaced_options("x: already holds a run; pass --resume", "import-tf1", options) == [
        "--resume (as an option of import-tf1)"]
    assert misplaced_options("x: continue with: genmnist train --resume --out x", "import-tf1", options) == []
    assert misplaced_options("genface compare: pass --model gan", "compare", options_by_command(
        genface_cli.family())) == []  # --model exists; its value is checked where the message is pinned
