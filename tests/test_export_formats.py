"""Issue 28: LiteRT and ONNX files of the three generators, run in their own runtimes.

Every file is written by the ``export`` command, loaded here with the runtime a user would
load it with (ai-edge-litert's interpreter, onnxruntime: their own APIs, no project code),
run at a batch of 64 and of 1, and compared with the images ``generate --z`` writes for
the same run, checkpoint and z. The SavedModel itself must convert with LiteRT builtins.
"""

import dataclasses
import os
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import onnxruntime
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from common import cli, export, export_formats
from common.evaluation import generate_from_exported_file
from genface.cli import family as face_family
from genmnist.cli import family as mnist_family
from tests.fixtures.tiny_models import TINY_FACE_RECIPES

FORMATS = ["tflite", "onnx"]


def _z(count, z_dim, seed=11):
    return np.random.default_rng(seed).standard_normal((count, z_dim)).astype(np.float32)


def run_tflite(path, z):
    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    return runner(z=z)


def run_onnx(path, z):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip(["images", "images_uint8"], session.run(["images", "images_uint8"], {"z": z})))


RUNTIMES = {"tflite": run_tflite, "onnx": run_onnx}


@pytest.fixture(scope="module")
def runs(gan_run, face_run, tmp_path_factory):
    """{name: (program, run folder, z_dim)}: the vanilla GAN in legacy fidelity (gan_run) and
    in fixed fidelity after 2 iterations (valid moving statistics), the WGAN-GP, and the
    faces WGAN-GP with narrow layers (face_run)."""
    root = tmp_path_factory.mktemp("format_runs")
    mnist = mnist_family()
    for name, model, fidelity, *options in (("gan_fixed", "gan", "fixed"), ("wgan", "wgan", "legacy"),
                                            ("gan_bf16", "gan", "legacy", "--precision", "mixed_bfloat16")):
        assert cli.main(mnist, ["train", "--model", model, "--fidelity", fidelity, "--steps", "2",
                                "--batch-size", "8", "--seed", "4", "--checkpoint-every", "0",
                                "--out", str(root / name), *options]) == 0
    faces = dataclasses.replace(face_family(), recipes=TINY_FACE_RECIPES)
    return {"gan": (mnist, gan_run, 100), "gan_fixed": (mnist, str(root / "gan_fixed"), 100),
            "wgan": (mnist, str(root / "wgan"), 100), "face": (faces, face_run, 128),
            "gan_bf16": (mnist, str(root / "gan_bf16"), 100)}


def generated(program, run, z, tmp_path, batch_statistics="no"):
    """What ``generate --z`` writes for ``z``: uint8 images."""
    z_path, out = tmp_path / f"z{len(z)}.npy", tmp_path / f"generated{len(z)}.npz"
    np.save(z_path, z)
    assert cli.main(program, ["generate", "--run", run, "--z", str(z_path), "--batch-statistics", batch_statistics,
                              "--out", str(out)]) == 0
    with np.load(out) as archive:
        return archive["images"]


def exported(program, run, tmp_path, file_format, *options):
    path = tmp_path / f"generator.{file_format}"
    assert cli.main(program, ["export", "--run", run, "--format", file_format, "--out", str(path),
                              "--samples", "500", *options]) == 0
    return path


def assert_like(images, reference, levels=export_formats.MAX_LEVELS):
    assert images.dtype == np.uint8 and images.shape == reference.shape
    assert np.max(np.abs(images.astype(int) - reference.astype(int))) <= levels


# (run, export options, generate's --batch-statistics): generate's own computation, named.
CASES = {"wgan": ("wgan", (), "no"), "face": ("face", (), "no"), "gan_fixed": ("gan_fixed", (), "no"),
         "gan_legacy_batch_stats": ("gan", ("--legacy-batch-stats",), "yes")}


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_file_in_its_runtime_gives_generates_images_at_batch_64_and_1(runs, case, file_format, tmp_path,
                                                                            capsys):
    name, options, batch_statistics = CASES[case]
    program, run, z_dim = runs[name]
    path = exported(program, run, tmp_path, file_format, *options)
    said = capsys.readouterr().out
    assert "largest difference" in said and "uint8 level" in said
    for z in (_z(64, z_dim), _z(1, z_dim)):
        outputs = RUNTIMES[file_format](path, z)
        reference = generated(program, run, z, tmp_path, batch_statistics)
        assert_like(outputs["images_uint8"], reference)
        assert outputs["images"].dtype == np.float32 and outputs["images"].shape == reference.shape
        assert_like(np.round(outputs["images"] * 255).astype(np.uint8), reference)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, "z64.npy", "z1.npy", "generated64.npz",
                                                   "generated1.npz"])  # no partial left beside it


@pytest.mark.parametrize("file_format", FORMATS)
def test_re_estimated_statistics_are_the_saved_models(runs, file_format, tmp_path, capsys):
    # A legacy-fidelity GAN's export normalises with re-estimated statistics (quirk Q2),
    # which generate never uses: the file computes what the SavedModel computes.
    program, run, z_dim = runs["gan"]
    path = exported(program, run, tmp_path, file_format)
    assert "re-estimated batch-norm statistics from 500 generated samples" in capsys.readouterr().out
    assert cli.main(program, ["export", "--run", run, "--out", str(tmp_path / "sm"), "--samples", "500"]) == 0
    serve = tf.saved_model.load(str(tmp_path / "sm" / "1")).signatures["serving_default"]
    for z in (_z(64, z_dim), _z(1, z_dim)):
        assert_like(RUNTIMES[file_format](path, z)["images_uint8"], serve(z=tf.constant(z))["images_uint8"].numpy())
    batch_statistics = generated(program, run, _z(64, z_dim), tmp_path, "yes")
    assert np.max(np.abs(RUNTIMES[file_format](path, _z(64, z_dim))["images_uint8"].astype(int)
                         - batch_statistics)) > 1  # not the run's own legacy generation


def test_a_mixed_precision_run_exports_in_float32(runs, tmp_path, capsys):
    # LiteRT has no bfloat16 kernels, and the signature promises float32 images.
    program, run, z_dim = runs["gan_bf16"]
    path = exported(program, run, tmp_path, "tflite", "--legacy-batch-stats")
    assert "the export computes in float32 (the run trained with mixed_bfloat16)" in capsys.readouterr().out
    assert cli.main(program, ["export", "--run", run, "--out", str(tmp_path / "sm"), "--legacy-batch-stats"]) == 0
    serve = tf.saved_model.load(str(tmp_path / "sm" / "1")).signatures["serving_default"]
    z = _z(64, z_dim)
    served = serve(z=tf.constant(z))
    assert served["images"].dtype == tf.float32
    outputs = run_tflite(path, z)
    assert_like(outputs["images_uint8"], served["images_uint8"].numpy())
    np.testing.assert_allclose(outputs["images"], served["images"].numpy(), atol=1e-5)


@pytest.mark.parametrize("quantize", ["float16", "dynamic"])
def test_quantized_litert_files_are_smaller_and_report_their_difference(runs, quantize, tmp_path, capsys):
    program, run, z_dim = runs["wgan"]
    full = exported(program, run, tmp_path, "tflite")
    capsys.readouterr()
    small = tmp_path / f"{quantize}.tflite"
    assert cli.main(program, ["export", "--run", run, "--format", "tflite", "--quantize", quantize,
                              "--out", str(small)]) == 0
    said = capsys.readouterr().out
    weights = {"float16": "float16", "dynamic": "int8"}[quantize]
    assert f"({weights} weights" in said and "largest difference" in said
    ratio = os.path.getsize(small) / os.path.getsize(full)
    assert (0.45 < ratio < 0.55) if quantize == "float16" else (0.2 < ratio < 0.3)
    for z in (_z(64, z_dim), _z(1, z_dim)):
        outputs = run_tflite(small, z)
        reference = generated(program, run, z, tmp_path)
        assert_like(outputs["images_uint8"], reference, levels=64)  # changed a little, not broken
        assert np.mean(np.abs(outputs["images_uint8"].astype(int) - reference)) < 2


def test_onnx_file_names_its_opset_inputs_and_outputs(runs, tmp_path):
    program, run, _ = runs["wgan"]
    model = onnx.load(str(exported(program, run, tmp_path, "onnx")))
    assert [entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")] == [export_formats.ONNX_OPSET]
    assert [value.name for value in model.graph.input] == ["z"]
    assert [value.name for value in model.graph.output] == ["images", "images_uint8"]
    dims = [[d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
            for value in (*model.graph.input, *model.graph.output)]
    assert dims == [["batch", 100], ["batch", 28, 28, 1], ["batch", 28, 28, 1]]


def test_a_file_off_by_more_than_one_level_is_not_left_behind(runs, tmp_path, monkeypatch, capsys):
    program, run, _ = runs["wgan"]
    honest = export.reference_generation

    def shifted(*args, **kwargs):  # as if the conversion had changed the images by 2 levels
        reference = honest(*args, **kwargs)

        def generate(z):
            images, images_uint8 = reference(z)
            return images, np.clip(images_uint8.astype(int) + 2, 0, 255)
        return generate

    monkeypatch.setattr(export, "reference_generation", shifted)
    for file_format in FORMATS:
        out = tmp_path / f"bad.{file_format}"
        assert cli.main(program, ["export", "--run", run, "--format", file_format, "--out", str(out)]) == 2
        said = capsys.readouterr().err
        assert f"{out}: not written" in said and "up to 2 uint8 levels (largest difference" in said
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(export, "reference_generation", honest)
    monkeypatch.setattr(export_formats, "tflite_model", lambda *args: b"not a flatbuffer")
    assert cli.main(program, ["export", "--run", run, "--format", "tflite", "--out", str(tmp_path / "x.tflite")]) == 2
    assert "not a loadable tflite file" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_wrong_options_are_refused_before_the_model_loads(runs, tmp_path, capsys):
    program, run, _ = runs["wgan"]
    for arguments, message in (
            (["--format", "onnx", "--quantize", "float16", "--out", "g.onnx"], "applies to --format tflite"),
            (["--format", "tflite", "--out", "g.onnx"], "with --format tflite, give a FILE.tflite"),
            (["--quantize", "dynamic", "--out", "sm"], "applies to --format tflite")):
        assert cli.main(program, ["export", "--run", run, *arguments]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("name", ["gan", "gan_batch", "wgan", "face"])
def test_the_saved_model_converts_with_litert_builtins_only(runs, name, tmp_path):
    program, run, _ = runs[name.replace("_batch", "")]
    options = ["--legacy-batch-stats"] if name == "gan_batch" else []
    assert cli.main(program, ["export", "--run", run, "--out", str(tmp_path), "--samples", "500", *options]) == 0
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "1"))
    assert converter.target_spec.supported_ops == {tf.lite.OpsSet.TFLITE_BUILTINS}  # the default: no TF Select
    assert len(converter.convert()) > 1000


def test_evaluate_reads_an_exported_file_in_its_runtime(runs, tmp_path):
    program, run, _ = runs["wgan"]
    path = exported(program, run, tmp_path, "tflite")
    images = generate_from_exported_file(str(path), 3, seed=5)
    from common.latents import sample_latents

    np.testing.assert_array_equal(images, np.clip(run_tflite(path, sample_latents(3, 100, 5))["images"], 0, 1))


def test_docs_snippets_run_with_no_project_code(runs, tmp_path):
    """docs/export.md's plain-Python lines, in a process that imports none of this project."""
    program, run, _ = runs["wgan"]
    tflite, onnx_file = (exported(program, run, tmp_path, file_format) for file_format in FORMATS)
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter
        generate = Interpreter(model_path={str(tflite)!r}).get_signature_runner()
        images = generate(z=np.random.standard_normal((16, 100)).astype(np.float32))["images_uint8"]
        assert images.shape == (16, 28, 28, 1) and images.dtype == np.uint8
        import onnxruntime
        session = onnxruntime.InferenceSession({str(onnx_file)!r})
        images, = session.run(["images_uint8"], {{"z": np.random.standard_normal((1, 100)).astype(np.float32)}})
        assert images.shape == (1, 28, 28, 1) and images.dtype == np.uint8
        print("project modules:", sorted(m for m in sys.modules if m.split(".")[0] in ("common", "genmnist", "genface")))
    """)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "project modules: []" in done.stdout


@pytest.mark.slow  # the full-size faces generator (23M parameters): a minute a format on 2 cores
@pytest.mark.parametrize("file_format", FORMATS)
def test_the_full_size_faces_file_gives_generates_images(full_face_run, file_format, tmp_path, capsys):
    program = face_family()
    path = exported(program, full_face_run, tmp_path, file_format)
    for z in (_z(64, 128), _z(1, 128)):
        assert_like(RUNTIMES[file_format](path, z)["images_uint8"], generated(program, full_face_run, z, tmp_path))
