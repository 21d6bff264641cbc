"""Random bytes and shapes thrown at every MNIST reader: each loads or fails with a UserError."""

import io
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import data
from common.errors import UserError

SUFFIXES = [".npz", ".csv", ".csv.gz", "", ".gz", "-idx3-ubyte"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read(payload, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "data" + suffix)
        with open(path, "wb") as handle:
            handle.write(payload)
        try:
            images = data.read_images(path, (28, 28, 1))
        except UserError as error:
            assert "\n" not in str(error)
            return None
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28, 1) and len(images)
        return images


@SETTINGS
@given(st.binary(max_size=4096), st.sampled_from(SUFFIXES))
def test_random_bytes_load_or_fail_with_a_one_line_user_error(payload, suffix):
    read(payload, suffix)


@SETTINGS
@given(st.lists(st.integers(0, 40), min_size=0, max_size=4), st.sampled_from(["uint8", "float32", "int64", "bool"]),
       st.sampled_from(["x", "x_train", "y", "images"]))
def test_random_array_shapes_in_an_npz(shape, dtype, key):
    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.ones(shape, dtype=dtype)})
    read(buffer.getvalue(), ".npz")


@SETTINGS
@given(st.lists(st.integers(0, 255), min_size=4, max_size=12), st.binary(max_size=3000))
def test_idx_headers_with_random_dimensions(header, body):
    read(bytes([0, 0, 8, len(header) // 4]) + bytes(header) + body, "")


@SETTINGS
@given(st.lists(st.lists(st.sampled_from(["0", "255", "1.5", "-3", "x", "", "nan", "7"]),
                         min_size=1, max_size=800), max_size=3))
def test_csv_rows_of_random_cells(rows):
    read("\n".join(",".join(row) for row in rows).encode(), ".csv")


# --- the face loaders ------------------------------------------------------------------------

IMAGE_SUFFIXES = [".png", ".jpg", ".bmp"]


def read_faces(files, **options):
    """Write ``{name: bytes}`` into a folder, read it as face data: faces or a UserError."""
    from genface.data import read_faces as reader

    with tempfile.TemporaryDirectory() as folder:
        for name, payload in files.items():
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(payload)
        target = os.path.join(folder, "face_data.csv") if "face_data.csv" in files else folder
        try:
            faces = reader(target, print_fn=lambda *a: None, **options)
        except UserError as error:
            assert "\n" not in str(error)
            return None
        assert len(faces) > 0
        return faces


@SETTINGS
@given(st.binary(max_size=3000), st.sampled_from(IMAGE_SUFFIXES), st.booleans(), st.booleans())
def test_random_bytes_as_a_face_image(payload, suffix, resize, skip_bad):
    read_faces({"face" + suffix: payload}, resize=resize, skip_bad=skip_bad)


@SETTINGS
@given(st.integers(1, 130), st.integers(1, 130), st.sampled_from([1, 2, 3, 4]), st.sampled_from(IMAGE_SUFFIXES),
       st.booleans())
def test_real_images_of_random_shapes_as_faces(height, width, channels, suffix, resize):
    import cv2

    image = np.random.default_rng(height * width).integers(0, 256, (height, width, channels), np.uint8)
    ok, encoded = cv2.imencode(suffix, image if channels != 2 else image[..., 0])
    if ok:
        faces = read_faces({"face" + suffix: encoded.tobytes()}, resize=resize)
        if faces is not None:
            assert faces.shape[1:] == (96, 96, 3)


@SETTINGS
@given(st.lists(st.text(max_size=30), max_size=5), st.binary(max_size=200))
def test_random_face_data_csv(lines, payload):
    text = "\n".join(lines).encode("utf-8", "surrogatepass") if lines else payload
    read_faces({"face_data.csv": text, "a.png": payload})
