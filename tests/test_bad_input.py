"""Every command rejects bad input with one line, exit status 2, and no traceback.

Each case is what a user could mistype or bring: the line must say what is wrong, where
(the file or option), and the test checks that nothing but that line is printed.
"""

import re

import cv2
import numpy as np
import pytest

from genface.cli import main as genface
from genmnist.cli import main as genmnist
from tests.helpers import status_of


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    np.savez(root / "labels_only.npz", y=np.zeros(10))
    np.savez(root / "nan.npz", x=np.full((4, 28, 28), np.nan, np.float32))
    np.savez(root / "inf.npz", x=np.full((4, 28, 28), np.inf, np.float32))
    np.savez(root / "faces.npz", x=np.zeros((4, 96, 96, 3), np.uint8))
    np.savez(root / "empty.npz", x=np.zeros((0, 28, 28), np.uint8))
    np.savez(root / "tiny.npz", x=np.zeros((4, 28, 28), np.uint8))
    (root / "columns.csv").write_text("1,2,3\n")
    good_row = "5," + ",".join(["0"] * 784) + "\n"
    (root / "text.csv").write_text(good_row + "5," + ",".join(["0"] * 400 + ["dark"] + ["0"] * 383) + "\n")
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"garbage" * 10)
    faces = root / "faces"
    faces.mkdir()
    for k in range(3):
        cv2.imwrite(str(faces / f"f{k}.png"), np.full((96, 96, 3), 100, np.uint8))
    small = root / "small"
    small.mkdir()
    cv2.imwrite(str(small / "s.png"), np.zeros((64, 64, 3), np.uint8))
    gray = root / "gray"
    gray.mkdir()
    cv2.imwrite(str(gray / "g.png"), np.zeros((96, 96), np.uint8))
    broken = root / "broken"
    broken.mkdir()
    (broken / "b.jpg").write_bytes((root / "corrupt.jpg").read_bytes())
    (root / "missing.csv").write_text("path\nfaces/f0.png\nnot_there.png\n")
    np.save(root / "z7.npy", np.zeros((2, 7), np.float32))
    return root


MNIST_CASES = [
    (["train", "--data", "{d}/nowhere.npz"], r"nowhere\.npz: no such file"),
    (["train", "--data", "{d}/faces.npz"], r"faces\.npz: images of shape \(96, 96, 3\), this model needs 28x28x1"),
    (["train", "--data", "{d}/columns.csv"], r"columns\.csv, line 1: 3 columns, expected 785"),
    (["train", "--data", "{d}/text.csv"], r"text\.csv, line 2: non-numeric pixel value 'dark'"),
    (["train", "--data", "{d}/empty.npz"], r"empty\.npz: the data set is empty"),
    (["train", "--data", "{d}/tiny.npz"], r"--batch-size 128 is larger than the data set \(4 images\)"),
    (["train", "--data", "{d}/nan.npz"], r"nan\.npz: NaN or infinite pixel values"),
    (["train", "--data", "{d}/inf.npz"], r"inf\.npz: NaN or infinite pixel values"),
    (["train", "--data", "{d}/labels_only.npz"], r"labels_only\.npz: no image array; expected a key 'x'"),
    (["train", "--data", "{d}/corrupt.png"], r"corrupt\.png: not an IDX file"),
    (["train", "--steps", "-3"], r"argument --steps: expected a number of at least 1, got -3"),
    (["train", "--learning-rate", "inf"], r"argument --learning-rate: expected a positive finite number"),
    (["train", "--seed", "99999999999"], r"argument --seed: seed must be in 0\.\.2147483647"),
    (["train", "--fidelity", "exact"], r"argument --fidelity: invalid choice: 'exact'"),
    (["generate", "--run", "{face_run}", "--out", "{out}/g.png"], r"a run of model 'face', this command handles \['gan', 'wgan'\]"),
    (["generate", "--run", "{mnist_run}", "--z", "{d}/z7.npy", "--out", "{out}/g.png"], r"z7\.npy: latent vectors of shape \(2, 7\), this model needs \[N, 100\]"),
    (["generate", "--run", "{d}", "--out", "{out}/g.png"], r"not a run folder \(no config\.json\)"),
    (["generate", "--run", "{mnist_run}", "-n", "0", "--out", "{out}/g.png"], r"argument -n: expected a number of at least 1"),
]

FACE_CASES = [
    (["train", "--data", "{d}/small"], r"s\.png: image is 64x64.*96x96.*--resize"),
    (["train", "--data", "{d}/gray"], r"g\.png: .*(grayscale|colour|channel)"),
    (["train", "--data", "{d}/broken"], r"b\.jpg: .*(corrupt|unreadable|cannot|decode)"),
    (["train", "--data", "{d}/missing.csv"], r"not_there\.png"),
    (["train", "--data", "{d}/faces", "--batch-size", "64"], r"64 is larger than the data set \(3 images\)"),
    (["generate", "--run", "{mnist_run}", "--out", "{out}/g.png"], r"a run of model 'gan', this command handles \['face'\]"),
]


@pytest.fixture
def runs(files, gan_run, face_run):
    """The bad files, and the shared runs of conftest.py (read-only) to point commands at."""
    return files, {"mnist_run": gan_run, "face_run": face_run}


def check(program, argv, message, runs, out, capsys):
    """``out``: this case's own folder for what the command would write."""
    files, run_dirs = runs
    argv = [a.format(d=files, out=out, **run_dirs) for a in argv]
    if argv[0] == "train":
        argv += ["--out", str(out / "new_run")]
    capsys.readouterr()
    assert status_of(program, argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert re.search(message, err), err
    # Nothing half-made is left.
    assert not (out / "new_run" / "config.json").exists() and not (out / "g.png").exists()


@pytest.mark.parametrize("argv, message", MNIST_CASES)
def test_genmnist_bad_input(runs, tmp_path, capsys, argv, message):
    check(genmnist, argv, message, runs, tmp_path, capsys)


@pytest.mark.parametrize("argv, message", FACE_CASES)
def test_genface_bad_input(runs, tmp_path, capsys, argv, message):
    check(genface, argv, message, runs, tmp_path, capsys)


def test_debug_shows_the_traceback(files, tmp_path, capsys):
    assert status_of(genmnist, ["--debug", "train", "--data", str(files / "empty.npz"), "--out",
                                str(tmp_path / "new_run")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "the data set is empty" in err
