"""Generators for other runtimes: LiteRT (TFLite) flatbuffers and ONNX files, checked on writing.

Both are converted from the SavedModel ``export`` writes, so they compute what it computes:
the input ``z``, the outputs ``images`` and ``images_uint8``, batch norm on the same
statistics, any batch size. LiteRT files are converted with builtin ops only (no TF
Select), optionally quantized (``float16`` weights, or ``dynamic``: int8 weights); ONNX
files by tf2onnx at opset :data:`ONNX_OPSET`.

A file is checked before it takes its name: loaded with its own runtime (ai-edge-litert's
interpreter, onnxruntime), run on fixed z in a batch of 64 and one at a time, and compared
with the images the project generates for the same z. A float32 file more than
:data:`MAX_LEVELS` uint8 level off is refused and removed; a quantized one reports its
difference. Nothing here knows the models: callers give the SavedModel and the reference.
The full account: docs/export.md.
"""

import logging
import os

import numpy as np
import tensorflow as tf

from common.errors import UserError, require
from common.files import replace_atomically

SIGNATURE = "serving_default"
FILE_FORMATS = {"tflite": ".tflite", "onnx": ".onnx"}
QUANTIZATIONS = ("none", "float16", "dynamic")
# Opset 17 (ONNX 1.12, 2022): read by every onnxruntime since 1.12 and by most other runtimes.
ONNX_OPSET = 17
MAX_LEVELS = 1  # one uint8 level: float32 rounding that lands on the other side of a .5
CHECK_BATCH = 64
CHECK_SINGLES = 4  # the first z of the check batch, each also run as a batch of 1


# --- conversion --------------------------------------------------------------------------


def tflite_model(saved_model, quantize="none"):
    """The LiteRT flatbuffer (bytes) of a SavedModel's signature, with builtin ops only.

    ``float16`` stores the weights as float16 (computed in float32); ``dynamic`` stores
    them as int8 and quantizes activations on the fly where a kernel allows.
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def onnx_model(saved_model, opset=ONNX_OPSET):
    """The ONNX model (bytes) of a SavedModel's signature: input ``z``, its outputs by name.

    The batch dimension of the input and outputs is named ``batch`` (tf2onnx leaves a
    generated name), so a runtime sees one symbolic size shared by them.
    """
    import tf2onnx

    loaded = tf.saved_model.load(saved_model)
    signature = loaded.signatures[SIGNATURE]
    spec = signature.structured_input_signature[1]["z"]
    quiet = logging.getLogger("tf2onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it logs every step of the conversion at INFO
    try:
        proto, _ = tf2onnx.convert.from_function(
            tf.function(lambda z: signature(z=z)), opset=opset,
            input_signature=[tf.TensorSpec(spec.shape, spec.dtype, name="z")])
    finally:
        quiet.setLevel(level)
    for value in (*proto.graph.input, *proto.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    return proto.SerializeToString()


def check_format(file_format, quantize="none"):
    require(file_format in FILE_FORMATS, f"format {file_format!r}: expected one of {sorted(FILE_FORMATS)}")
    require(quantize in QUANTIZATIONS, f"--quantize {quantize}: expected one of {QUANTIZATIONS}")
    require(quantize == "none" or file_format == "tflite",
            f"--quantize {quantize} applies to --format tflite; ONNX files keep float32 weights")


def check_target(path, file_format, quantize="none"):
    """Refuse a format, quantization or ``--out`` path that cannot work, before any model loads."""
    check_format(file_format, quantize)
    suffix = FILE_FORMATS[file_format]
    require(str(path).endswith(suffix), f"--out {path}: with --format {file_format}, give a FILE{suffix}")
    require(not os.path.isdir(path), f"--out {path}: is a folder; give a FILE{suffix}")


def convert(saved_model, file_format, quantize="none"):
    """The bytes of a ``file_format`` file converted from the SavedModel at ``saved_model``."""
    check_format(file_format, quantize)
    if file_format == "tflite":
        return tflite_model(saved_model, quantize)
    return onnx_model(saved_model)


# --- the runtimes ------------------------------------------------------------------------


class Runtime:
    """A LiteRT or ONNX file loaded in its own runtime: ``runtime(z) -> {"images", "images_uint8"}``.

    LiteRT's signature runner resizes its input to each batch it is given; onnxruntime
    takes any batch as written. ``z_dim`` is the width the file's input declares.
    """

    def __init__(self, path, file_format=None):
        file_format = file_format or format_of(path)
        try:
            if file_format == "tflite":
                from ai_edge_litert.interpreter import Interpreter

                runner = Interpreter(model_path=path).get_signature_runner(SIGNATURE)
                self.z_dim = int(runner.get_input_details()["z"]["shape_signature"][-1])
                self._run = lambda z: runner(z=z)
            else:
                import onnxruntime

                session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
                names = [output.name for output in session.get_outputs()]
                self.z_dim = int(session.get_inputs()[0].shape[-1])
                self._run = lambda z: dict(zip(names, session.run(names, {"z": z})))
        except (ValueError, RuntimeError, KeyError) as exc:
            raise UserError(f"{path}: not a loadable {file_format} file with a z input "
                            f"({exc.__class__.__name__}: {exc})") from exc

    def __call__(self, z):
        return self._run(np.asarray(z, np.float32))


def format_of(path):
    """``"tflite"`` or ``"onnx"``, from the file's name."""
    for file_format, suffix in FILE_FORMATS.items():
        if str(path).endswith(suffix):
            return file_format
    raise UserError(f"{path}: expected a .tflite or .onnx file written by export")


def differences(run, reference, z, singles=CHECK_SINGLES):
    """``(largest |images| difference, largest uint8 difference in levels)`` of ``run``
    against ``reference`` (``z -> (images, images_uint8)``), over ``z`` as one batch and its
    first ``singles`` vectors as batches of 1."""
    largest, levels = 0.0, 0
    for batch in [z] + [z[k:k + 1] for k in range(min(singles, len(z)))]:
        got, (images, images_uint8) = run(batch), reference(batch)
        for key, want in (("images", images), ("images_uint8", images_uint8)):
            require(key in got and got[key].shape == want.shape,
                    f"the file returns {key} of shape {getattr(got.get(key), 'shape', None)} for a batch of "
                    f"{len(batch)}; expected {want.shape}")
        largest = max(largest, float(np.max(np.abs(got["images"] - images))))
        levels = max(levels, int(np.max(np.abs(got["images_uint8"].astype(np.int16) - images_uint8))))
    return largest, levels


def write_checked(path, content, file_format, reference, z, quantized=False):
    """Write ``content`` to ``path`` if its runtime reproduces ``reference`` on ``z``.

    The file is written beside ``path``, loaded and run from there, and renamed only when it
    passes; returns ``(largest images difference, largest uint8 difference)``. A float32
    file more than :data:`MAX_LEVELS` off is refused (:class:`UserError`) and removed; a
    quantized one is kept whatever its difference, which the caller reports.
    """
    found = []

    def save(partial):
        with open(partial, "wb") as handle:
            handle.write(content)
        found.extend(differences(Runtime(partial, file_format), reference, z))
        largest, levels = found
        require(quantized or levels <= MAX_LEVELS,
                f"{path}: not written: in its runtime the {file_format} file's images differ from the "
                f"project's by up to {levels} uint8 levels (largest difference {largest:.3g} in [0, 1]); "
                f"a float32 conversion may differ by {MAX_LEVELS} at most. Use the SavedModel, and "
                f"report the run and the versions of tensorflow, tf2onnx and ai-edge-litert")

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    replace_atomically(path, save, suffix=".partial" + FILE_FORMATS[file_format])
    return tuple(found)
