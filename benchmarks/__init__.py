"""The benchmarks: speed and sample quality of the port against the original's graph.

Run each from the repository root as a module, so that it imports the project as it is
checked out (``python -m benchmarks.throughput``, ``python -m benchmarks.quality``, ...).
Every results file one writes carries a provenance record (:func:`benchmarks.shared.provenance`).
"""
