"""Images per second of the face data path: the up-front check and the streaming decode.

A face data set larger than the memory budget is decoded from disk as training goes
(:class:`common.data.ImageFiles` through ``common.data.batches``: ``tf.data`` with
parallel OpenCV decoding). This writes cartoon faces as image files (or takes a folder
you give), then times

* the check ``genface.data.read_faces`` makes of every file before training (decode,
  size and colour checks, in a thread pool), and
* the stream itself: float32 batches of 64 served by the pipeline, read to the end,

so the figure to compare with training speed (``python -m benchmarks.throughput --models
face``: images per second the model consumes) is the second one. Run from the repository
root::

    python -m benchmarks.face_decode                  # 2048 cartoon PNGs in a temp folder
    python -m benchmarks.face_decode --format jpg --count 4096
    python -m benchmarks.face_decode --folder /data/faces --json decode.json
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.face_decode")

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import common  # noqa: E402,F401  (quietens TensorFlow)
from benchmarks import shared  # noqa: E402
from common import data  # noqa: E402
from genface import cartoon  # noqa: E402
from genface import data as face_data  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default=None, help="a folder of 96x96 faces (default: write cartoon faces)")
    parser.add_argument("--count", type=int, default=2048, help="cartoon faces to write (default 2048)")
    parser.add_argument("--format", default="png", choices=("png", "jpg", "bmp"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2, help="passes over the set to time (default 2)")
    parser.add_argument("--json", default=None, help="also write the figures, with their provenance, to this file")
    args = parser.parse_args(argv)

    began = shared.moment()
    print(shared.summary(shared.provenance(vars(args), began)))
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder
        if folder is None:
            folder = os.path.join(scratch, "faces")
            started = time.perf_counter()
            cartoon.write_face_folder(folder, args.count, seed=0, fmt=args.format)
            print(f"wrote {args.count} cartoon {args.format.upper()} faces in "
                  f"{time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        files = face_data.read_faces(folder, memory_budget_mb=0, print_fn=lambda message: None)
        seconds = time.perf_counter() - started
        print(f"check pass: {len(files)} files in {seconds:.2f} s = {len(files) / seconds:.0f} images/s")
        figures["check_images_per_s"] = len(files) / seconds

        steps = args.epochs * (len(files) // args.batch_size)
        stream = data.batches(files, args.batch_size, seed=0, steps=steps)
        iterator = iter(stream)
        next(iterator)  # start the pipeline's threads outside the clock
        started = time.perf_counter()
        served = 0
        for batch in iterator:
            served += int(batch.shape[0])
        seconds = time.perf_counter() - started
        print(f"streaming decode: {served} images in {seconds:.2f} s = {served / seconds:.0f} images/s "
              f"(batches of {args.batch_size}, float32 in [0, 1])")
        figures["streaming_images_per_s"] = served / seconds

        held = face_data.read_faces(folder, print_fn=lambda message: None)
        started = time.perf_counter()
        served = sum(int(batch.shape[0]) for batch in data.batches(held, args.batch_size, seed=0, steps=steps))
        seconds = time.perf_counter() - started
        print(f"in memory, for comparison: {served / seconds:.0f} images/s "
              f"({held.nbytes / 2 ** 20:.0f} MiB held as uint8)")
        figures["in_memory_images_per_s"] = served / seconds
        figures["files"] = len(files)
    print(f"load average after: {shared.moment()['load_average']}")
    if args.json:
        shared.write_results(args.json, figures, vars(args), began)
        print(f"written to {args.json}")


if __name__ == "__main__":
    main()
