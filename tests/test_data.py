"""Readers for every MNIST format the original's users have, and the resumable batch stream."""

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

from common import data
from common.errors import UserError
from genmnist.cli import EMBEDDED

SHAPE = (28, 28, 1)


@pytest.fixture(scope="module")
def digits():
    with np.load(EMBEDDED) as archive:
        return archive["x"][:50], archive["y"][:50]


def write_idx(path, images, compress=False):
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as handle:
        handle.write(header + images.astype(np.uint8).tobytes())


def write_csv(path, images, labels, header=False):
    with open(path, "w") as handle:
        if header:
            handle.write("label," + ",".join(f"pixel{k}" for k in range(784)) + "\n")
        for image, label in zip(images, labels):
            handle.write(f"{label}," + ",".join(str(v) for v in image.reshape(-1)) + "\n")


def test_the_embedded_sample_is_10000_real_digits():
    images = data.read_images(EMBEDDED, SHAPE)
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    with np.load(EMBEDDED) as archive:
        assert np.bincount(archive["y"], minlength=10).min() > 800  # about 1000 of each class


def test_npz_with_x_and_keras_mnist_npz(tmp_path, digits):
    x, y = digits
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    for name in ("plain.npz", "mnist.npz"):
        np.testing.assert_array_equal(data.read_images(str(tmp_path / name), SHAPE)[..., 0], x)


def test_npz_without_an_image_array_names_the_keys(tmp_path):
    np.savez(tmp_path / "bad.npz", labels=np.zeros(3))
    with pytest.raises(UserError, match=r"bad\.npz.*'x'.*\['labels'\]"):
        data.read_images(str(tmp_path / "bad.npz"), SHAPE)


def test_npz_with_objects_is_refused_without_running_pickle(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(UserError, match="pickle"):
        data.read_images(str(tmp_path / "obj.npz"), SHAPE)


@pytest.mark.parametrize("header", [False, True])
def test_the_originals_csv_with_or_without_header(tmp_path, digits, header):
    x, y = digits
    write_csv(tmp_path / "train.csv", x[:7], y[:7], header=header)
    np.testing.assert_array_equal(data.read_images(str(tmp_path / "train.csv"), SHAPE)[..., 0], x[:7])


def test_csv_with_wrong_column_count_names_the_line(tmp_path):
    (tmp_path / "short.csv").write_text("5," + ",".join(["0"] * 783) + "\n")
    with pytest.raises(UserError, match=r"short\.csv, line 1: 784 columns, expected 785"):
        data.read_images(str(tmp_path / "short.csv"), SHAPE)


def test_csv_with_non_numeric_cell_names_line_and_value(tmp_path, digits):
    x, y = digits
    write_csv(tmp_path / "t.csv", x[:2], y[:2])
    lines = (tmp_path / "t.csv").read_text().splitlines()
    lines[1] = lines[1].replace(",0,", ",abc,", 1)
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"line 2: non-numeric pixel value 'abc'"):
        data.read_images(str(tmp_path / "t.csv"), SHAPE)


def test_csv_with_out_of_range_or_nan_pixels(tmp_path):
    (tmp_path / "big.csv").write_text("1," + ",".join(["300"] * 784) + "\n")
    with pytest.raises(UserError, match="0..255"):
        data.read_images(str(tmp_path / "big.csv"), SHAPE)
    (tmp_path / "nan.csv").write_text("1," + ",".join(["nan"] * 784) + "\n")
    with pytest.raises(UserError, match="NaN"):
        data.read_images(str(tmp_path / "nan.csv"), SHAPE)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_file_raw_or_gzip_and_folder(tmp_path, digits, compress):
    x, _ = digits
    name = "train-images-idx3-ubyte" + (".gz" if compress else "")
    write_idx(tmp_path / name, x, compress)
    np.testing.assert_array_equal(data.read_images(str(tmp_path / name), SHAPE)[..., 0], x)
    np.testing.assert_array_equal(data.read_images(str(tmp_path), SHAPE)[..., 0], x)


def test_truncated_idx_and_label_files_are_explained(tmp_path, digits):
    x, _ = digits
    write_idx(tmp_path / "cut", x)
    raw = (tmp_path / "cut").read_bytes()
    (tmp_path / "cut").write_bytes(raw[:-100])
    with pytest.raises(UserError, match="truncated or corrupt"):
        data.read_images(str(tmp_path / "cut"), SHAPE)
    (tmp_path / "labels").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]))
    with pytest.raises(UserError, match="label file"):
        data.read_images(str(tmp_path / "labels"), SHAPE)
    (tmp_path / "junk.bin").write_bytes(b"\x89PNG not idx")
    with pytest.raises(UserError, match="not an IDX file"):
        data.read_images(str(tmp_path / "junk.bin"), SHAPE)


def test_missing_path_empty_set_and_wrong_shape(tmp_path):
    with pytest.raises(UserError, match="nowhere.npz: no such file"):
        data.read_images(str(tmp_path / "nowhere.npz"), SHAPE)
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(UserError, match="empty"):
        data.read_images(str(tmp_path / "empty.npz"), SHAPE)
    np.savez(tmp_path / "faces.npz", x=np.zeros((3, 96, 96, 3), np.uint8))
    with pytest.raises(UserError, match=r"\(96, 96, 3\), this model needs 28x28x1"):
        data.read_images(str(tmp_path / "faces.npz"), SHAPE)


def test_float_images_in_unit_range_are_taken_as_the_original_fed_them(digits):
    x, _ = digits
    np.testing.assert_array_equal(data._as_image_batch(x / 255.0, SHAPE, "array")[..., 0], x)


def test_keras_mnist_cache_file_is_read_through_keras(tmp_path, digits):
    x, y = digits
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    # keras.datasets.mnist checks the file's hash before use: give it the one it expects,
    # by asking Keras to validate against our file through its own cache directory.
    script = (
        "import numpy as np, keras.src.utils.file_utils as f;"
        "f.validate_file = lambda *a, **k: True;"
        "from common import data;"
        "im = data.read_images('keras', (28, 28, 1));"
        "print(im.shape, int(im.sum()))")
    env = dict(os.environ, KERAS_HOME=str(tmp_path), PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"(50, 28, 28, 1) {int(x.astype(np.int64).sum())}" in out.stdout


# --- the stream ------------------------------------------------------------------------------


def collect(stream, count):
    return [np.asarray(batch) for batch in stream.take(count)]


def test_every_epoch_is_a_fresh_permutation_without_the_incomplete_tail():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    batches = collect(data.batches(images, 3, seed=7), 6)  # 3 full batches per epoch
    epochs = [np.concatenate(batches[k:k + 3]).reshape(-1) * 255 for k in (0, 3)]
    for epoch in epochs:
        assert len(set(np.rint(epoch).astype(int))) == 9  # no repeats inside an epoch
    assert not np.array_equal(epochs[0], epochs[1])  # Q6: reshuffled, unlike _next_batch


def test_batches_are_floats_in_unit_range(digits):
    x, _ = digits
    batch = collect(data.batches(x[..., None], 8, seed=1), 1)[0]
    assert batch.dtype == np.float32 and batch.shape == (8, 28, 28, 1)
    assert batch.min() >= 0 and batch.max() <= 1 and batch.max() > 0.9


def test_the_stream_resumes_exactly_at_any_step(digits):
    x, _ = digits
    full = collect(data.batches(x[..., None], 16, seed=3), 9)
    resumed = collect(data.batches(x[..., None], 16, seed=3, start_step=5), 4)
    for a, b in zip(full[5:], resumed):
        np.testing.assert_array_equal(a, b)
    other_seed = collect(data.batches(x[..., None], 16, seed=4), 1)[0]
    assert not np.array_equal(other_seed, full[0])


def test_batch_larger_than_the_data_set_is_refused(digits):
    x, _ = digits
    with pytest.raises(UserError, match="batch size 64 is larger than the data set \\(50 images\\)"):
        data.batches(x[..., None], 64, seed=0)
