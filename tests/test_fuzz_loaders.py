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
