"""The quality benchmark's bookkeeping: divergence found in the loss log, and how a run that
diverged counts in the run-to-run spread the port is judged against."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import quality  # noqa: E402  (benchmarks/quality.py: a broken import must fail here, not skip)


def row(setting, seed, score, distance, largest, **extra):
    others = (1.0 - largest) / 9
    return dict(setting=setting, seed=seed, iterations=10000, classifier_score=score, frechet_distance=distance,
                class_fractions=[largest] + [others] * 9, **extra)


def diverged(setting, seed, at):
    return dict(setting=setting, seed=seed, iterations=at, diverged_at=at, scored_at=None,
                classifier_score=None, frechet_distance=None, class_fractions=None)


def test_first_non_finite_loss_is_found_in_the_log(tmp_path):
    log = tmp_path / "losses.csv"
    log.write_text("iteration,d_loss,g_loss\n0,1.2,0.7\n1,0.3,2\n2,inf,nan\n3,nan,nan\n")
    assert quality._first_non_finite(str(log)) == 2
    log.write_text("iteration,d_loss,g_loss\n0,1.2,0.7\n1,0.3,2\n")
    assert quality._first_non_finite(str(log)) is None
    assert quality._first_non_finite(str(tmp_path / "missing.csv")) is None


def test_port_inside_the_legacy_graphs_range_is_said_so():
    lines = quality.spread([row("port-legacy", 0, 3.0, 200, 0.4), row("port-legacy", 1, 3.5, 190, 0.45),
                            row("tf1-legacy-graph", 0, 2.5, 250, 0.3), row("tf1-legacy-graph", 1, 4.0, 150, 0.5)])
    port = [line for line in lines if line.startswith("port-legacy")]
    assert len(port) == 3 and all("; inside tf1-legacy-graph's" in line for line in port)


def test_ranges_that_only_overlap_or_miss_are_told_apart():
    lines = quality.spread([row("port-legacy", 0, 3.0, 200, 0.4), row("port-legacy", 1, 5.0, 100, 0.45),
                            row("tf1-legacy-graph", 0, 2.5, 250, 0.6), row("tf1-legacy-graph", 1, 4.0, 150, 0.7)])
    by_metric = {line.split(": ")[1].split()[0]: line for line in lines if line.startswith("port-legacy")}
    assert "overlapping, not inside" in by_metric["classifier_score"]
    assert "overlapping, not inside" in by_metric["frechet_distance"]
    assert "disjoint from" in by_metric["largest_class"]


def test_a_diverged_legacy_run_counts_as_the_worst_end_of_its_range():
    lines = quality.spread([row("port-legacy", 0, 2.0, 300, 0.4), row("port-legacy", 1, 3.0, 200, 0.45),
                            row("tf1-legacy-graph", 0, 3.5, 190, 0.5), diverged("tf1-legacy-graph", 1, 8344)])
    by_metric = {line.split(": ")[1].split()[0]: line for line in lines if line.startswith("port-legacy")}
    # A NaN generator is worse than any score: the port's lower scores fall inside.
    assert "inside tf1-legacy-graph's [1.000, 3.500]" in by_metric["classifier_score"]
    assert "inside tf1-legacy-graph's [190.000, inf]" in by_metric["frechet_distance"]
    assert "tf1-legacy-graph (2 seeds, 1 diverged to NaN before the end)" in "\n".join(lines)


def test_a_single_legacy_seed_gives_no_verdict():
    lines = quality.spread([row("port-legacy", 0, 2.0, 300, 0.4), row("tf1-legacy-graph", 0, 3.5, 190, 0.5)])
    assert all("no spread to compare with yet" in line for line in lines if line.startswith("port-legacy"))
