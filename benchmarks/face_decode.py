"""Images per second of the face data path: the up-front check and the streaming decode.

A face data set larger than the memory budget is decoded from disk as training goes
(:class:`common.data.ImageFiles` through ``common.data.batches``: ``tf.data`` with
parallel OpenCV decoding). This writes cartoon faces as image files (or takes a folder
you give), then times

* the check ``genface.data.read_faces`` makes of every file before training (decode,
  size and colour checks, in a thread pool), and
* the stream itself: float32 batches of 64 served by the pipeline, read to the end,

so the figure to compare with training speed (``train_speed.py``: images per second
the model consumes) is the second one::

    python benchmarks/face_decode.py                  # 2048 cartoon PNGs in a temp folder
    python benchmarks/face_decode.py --format jpg --count 4096
    python benchmarks/face_decode.py --folder /data/faces
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # noqa: E402,F401  (quietens TensorFlow)
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
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder
        if folder is None:
            folder = os.path.join(scratch, "faces")
            started = time.perf_counter()
            cartoon.write_face_folder(folder, args.count, seed=0, fmt=args.format)
            print(f"wrote {args.count} cartoon {args.format.upper()} faces in "
                  f"{time.perf_counter() - started:.1f} s")
        print(f"CPU cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")

        started = time.perf_counter()
        files = face_data.read_faces(folder, memory_budget_mb=0, print_fn=lambda message: None)
        seconds = time.perf_counter() - started
        print(f"check pass: {len(files)} files in {seconds:.2f} s = {len(files) / seconds:.0f} images/s")

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

        held = face_data.read_faces(folder, print_fn=lambda message: None)
        started = time.perf_counter()
        served = sum(int(batch.shape[0]) for batch in data.batches(held, args.batch_size, seed=0, steps=steps))
        seconds = time.perf_counter() - started
        print(f"in memory, for comparison: {served / seconds:.0f} images/s "
              f"({held.nbytes / 2 ** 20:.0f} MiB held as uint8)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
