"""Tests for the procedural cartoon face data set (genface.cartoon)."""

import colorsys
import csv
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from genface import cartoon
from genface.cartoon import draw_face, draw_faces, face_at, face_grid, write_face_folder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def faces64():
    return draw_faces(64, seed=0)


def test_draw_face_shape_dtype():
    face = draw_face(np.random.default_rng(0))
    assert face.shape == (96, 96, 3)
    assert face.dtype == np.uint8


def test_draw_faces_shape_dtype():
    faces = draw_faces(5, seed=2)
    assert faces.shape == (5, 96, 96, 3)
    assert faces.dtype == np.uint8
    small = draw_faces(3, seed=2, size=64)
    assert small.shape == (3, 64, 64, 3)
    assert small.dtype == np.uint8
    assert draw_faces(0).shape == (0, 96, 96, 3)


def test_same_seed_same_bytes():
    a = draw_faces(6, seed=3)
    b = draw_faces(6, seed=3)
    assert a.tobytes() == b.tobytes()


def test_face_i_independent_of_n():
    many = draw_faces(9, seed=5)
    few = draw_faces(4, seed=5)
    np.testing.assert_array_equal(few, many[:4])
    # Face i is defined by the generator seeded with [seed, i].
    np.testing.assert_array_equal(draw_face(np.random.default_rng([5, 7])), many[7])
    np.testing.assert_array_equal(face_at(7, seed=5), many[7])


def test_different_seeds_differ():
    a = draw_faces(8, seed=0).astype(np.float32)
    b = draw_faces(8, seed=1).astype(np.float32)
    per_face = np.abs(a - b).mean(axis=(1, 2, 3))
    assert per_face.min() > 10.0


def test_faces_are_not_blank(faces64):
    f = faces64.reshape(len(faces64), -1, 3)
    assert f.astype(np.float32).std(axis=1).mean(axis=1).min() > 20.0
    for face in f:
        # A drawn face has many distinct colours (anti-aliasing, eyes, hair).
        assert len(np.unique(face[::7], axis=0)) > 50


def test_faces_are_not_near_duplicates(faces64):
    f = faces64.astype(np.float32)
    d = np.abs(f[:, None] - f[None]).mean(axis=(2, 3, 4))
    iu = np.triu_indices(len(f), 1)
    assert d[iu].min() > 12.0
    assert np.median(d[iu]) > 35.0


def test_skin_and_hair_colours_vary(faces64):
    n = len(faces64)
    f = faces64.astype(np.float32)
    # Below the eyes, around nose and mouth, is mostly skin in every face;
    # the band near the top is mostly hair (or background for bald heads).
    skin = np.median(f[:, 64:72, 38:58].reshape(n, -1, 3), axis=1)
    hair = np.median(f[:, 6:16, 36:60].reshape(n, -1, 3), axis=1)
    assert skin.std(axis=0).mean() > 20.0
    assert hair.std(axis=0).mean() > 30.0
    assert len({tuple(c) for c in (skin // 16).astype(int)}) >= 10
    assert len({tuple(c) for c in (hair // 32).astype(int)}) >= 12


def test_faces_are_centred(faces64):
    # Averaged over many faces the frame is symmetric left/right, as for
    # centred face crops.
    mean = faces64.astype(np.float32).mean(axis=0)
    assert np.abs(mean - mean[:, ::-1]).mean() < 12.0


def test_write_face_folder_png_round_trip(tmp_path):
    n, seed = 12, 4
    csv_path = write_face_folder(str(tmp_path / "faces"), n, seed=seed)
    assert os.path.basename(csv_path) == "face_data.csv"
    with open(csv_path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["path"]
    paths = [r[0] for r in rows[1:]]
    assert len(paths) == n
    assert paths[0] == "face_00000.png"
    expected = draw_faces(n, seed=seed)
    root = os.path.dirname(csv_path)
    for i, rel in enumerate(paths):
        assert not os.path.isabs(rel)
        bgr = cv2.imread(os.path.join(root, rel), cv2.IMREAD_COLOR)
        assert bgr is not None
        np.testing.assert_array_equal(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), expected[i])


def test_write_face_folder_jpg(tmp_path):
    csv_path = write_face_folder(str(tmp_path), 3, seed=1, fmt="jpg",
                                 csv_name="list.csv")
    with open(csv_path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == ["face_00000.jpg", "face_00001.jpg",
                                        "face_00002.jpg"]
    expected = draw_faces(3, seed=1).astype(np.float32)
    for i, (rel,) in enumerate(rows[1:]):
        rgb = cv2.cvtColor(cv2.imread(str(tmp_path / rel)), cv2.COLOR_BGR2RGB)
        # Lossy, but the colours must not be swapped.
        assert np.abs(rgb.astype(np.float32) - expected[i]).mean() < 6.0


def test_face_grid_layout():
    faces = draw_faces(10)
    grid = face_grid(faces, cols=4, pad=2)
    assert grid.shape == (3 * 98 + 2, 4 * 98 + 2, 3)
    np.testing.assert_array_equal(grid[2:98, 2:98], faces[0])
    np.testing.assert_array_equal(grid[100:196, 100:196], faces[5])


def test_preview_command(tmp_path):
    out = tmp_path / "preview.png"
    subprocess.run([sys.executable, "-m", "genface.cartoon", "--n", "16",
                    "--seed", "0", "--out", str(out)],
                   cwd=REPO, check=True, capture_output=True)
    grid = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert grid.shape == (2 * 98 + 2, 8 * 98 + 2, 3)
    np.testing.assert_array_equal(grid[2:98, 2:98], draw_faces(1)[0])


# --- the factors behind each face (what genface.scorer learns to read) -------------------


@pytest.fixture(scope="module")
def labelled200():
    return cartoon.draw_labelled_faces(200, seed=0)


def test_labelled_faces_are_the_same_pictures(labelled200):
    faces, labels = labelled200
    np.testing.assert_array_equal(faces[:64], draw_faces(64, seed=0))
    later, later_labels = cartoon.draw_labelled_faces(5, seed=0, start=150)
    np.testing.assert_array_equal(later, faces[150:155])
    for name in cartoon.FACTORS:
        np.testing.assert_array_equal(later_labels[name], labels[name][150:155])


def test_labels_name_every_factor_and_stay_in_range(labelled200):
    _, labels = labelled200
    assert list(labels) == list(cartoon.FACTORS)
    # One name per palette entry, plus the class of "not shown".
    assert len(cartoon.FACTORS["hair_colour"]) == len(cartoon._HAIR[0]) + 1
    assert len(cartoon.FACTORS["eye_colour"]) == len(cartoon._EYES[0]) + 1
    assert len(cartoon.FACTORS["skin_tone"]) == len(cartoon._SKIN[0])
    for name, classes in cartoon.FACTORS.items():
        assert labels[name].dtype == np.int64 and labels[name].shape == (200,)
        assert labels[name].min() >= 0 and labels[name].max() < len(classes)
        # Every class but the rare ones turns up in 200 faces.
        assert len(np.unique(labels[name])) >= min(len(classes), 3)
    assert len(cartoon.draw_labelled_faces(0)[1]["glasses"]) == 0


def test_a_factor_the_picture_cannot_show_has_its_own_class(labelled200):
    _, labels = labelled200
    factors = cartoon.FACTORS
    bald = labels["hair_style"] == factors["hair_style"].index("bald")
    assert bald.any()
    assert np.all((labels["hair_colour"] == factors["hair_colour"].index("none (bald)")) == bald)
    happy = labels["expression"] == factors["expression"].index("happy")
    assert happy.any()
    assert np.all((labels["eye_colour"] == factors["eye_colour"].index("closed")) == happy)


def test_labels_agree_with_the_pictures(labelled200):
    faces, labels = labelled200
    n = len(faces)
    # Background: the hue of the top-left corner, in the six bins the labels use.
    corner = faces[:, 1, 1].astype(np.float64) / 255.0
    hues = np.array([colorsys.rgb_to_hsv(*c)[0] for c in corner])
    assert np.mean(np.floor(hues * 6 + 0.5).astype(int) % 6 == labels["background"]) > 0.9
    # Skin tone: the palette runs from light to dark, and so does the skin below the eyes.
    skin = np.median(faces[:, 64:72, 38:58].reshape(n, -1, 3).astype(np.float64), axis=1).mean(axis=1)
    assert np.corrcoef(skin, labels["skin_tone"])[0, 1] < -0.9
    # Hair colour: the crown of black-haired heads is darker than of blonde, platinum, silver ones.
    crown = np.median(faces[:, 10:20, 40:56].reshape(n, -1, 3).astype(np.float64), axis=1).mean(axis=1)
    names = cartoon.FACTORS["hair_colour"]
    light = np.isin(labels["hair_colour"], [names.index(c) for c in ("blonde", "platinum", "silver")])
    assert np.median(crown[labels["hair_colour"] == names.index("black")]) + 50 < np.median(crown[light])
