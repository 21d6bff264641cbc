"""Every results file a benchmark writes says what made it: the commit, the settings, the
packages, the machine and the load (``benchmarks.shared``); the benchmarks import the
project as it is and patch nothing of TensorFlow."""

import datetime
import importlib
import json
import os
import re
import subprocess
import sys

import pytest

from benchmarks import shared

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = sorted(file[:-3] for file in os.listdir(os.path.join(ROOT, "benchmarks"))
                    if file.endswith(".py") and file not in ("__init__.py", "shared.py"))


def check_provenance(record, settings=None):
    assert set(record) == set(shared.PROVENANCE_KEYS)
    # A copy of the tree without its git folder (a test machine's) records no commit.
    assert record["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", record["commit"])
    if record["commit"] is not None:
        assert isinstance(record["dirty"], bool) and isinstance(record["modified"], list)
    assert isinstance(record["argv"], list)
    if settings is not None:
        assert record["settings"] == settings
    assert set(record["versions"]) == {"python", *shared.PACKAGES}
    assert record["versions"]["python"] and record["versions"]["tensorflow"]
    box = record["machine"]
    assert isinstance(box["cpu_model"], str) and box["cpu_model"]
    assert box["cores"] >= 1 and 1 <= box["cores_usable"] <= box["cores"]
    assert box["memory_gib"] is None or box["memory_gib"] > 0
    for end in ("started", "finished"):
        assert datetime.datetime.fromisoformat(record[end]["utc"]).utcoffset() == datetime.timedelta(0)
        assert record[end]["load_average"] is None or len(record[end]["load_average"]) == 3


def test_the_provenance_record_has_code_settings_packages_machine_and_load():
    started = shared.moment()
    record = shared.provenance({"steps": 3, "shape": (28, 28)}, started)
    check_provenance(record, {"steps": 3, "shape": [28, 28]})
    assert record["started"] == started
    assert record["started"]["utc"] <= record["finished"]["utc"]
    json.dumps(record)  # all of it JSON


def test_a_results_file_carries_the_provenance(tmp_path):
    path = tmp_path / "deeper" / "results.json"
    shared.write_results(str(path), {"it_per_s": 4.2}, {"models": ["gan"]})
    written = json.loads(path.read_text())
    assert written["it_per_s"] == 4.2
    check_provenance(written["provenance"], {"models": ["gan"]})


def test_the_short_speed_option_names_are_the_projects_options():
    from common.settings import RunConfig

    assert shared.SPEED_OPTIONS == RunConfig.SPEED_OPTIONS
    assert shared.speed_options() == {"precision": "float32", "jit_compile": False, "fused_discriminator": False}
    for name, options in shared.SHORT_NAMES.items():
        assert set(options) <= set(RunConfig.SPEED_OPTIONS), name
    assert shared.speed_options(["bf16", "fused"]) == {"precision": "mixed_bfloat16", "jit_compile": False,
                                                        "fused_discriminator": True}
    with pytest.raises(ValueError, match="unknown speed option 'fp8'"):
        shared.speed_options(["fp8"])


@pytest.mark.parametrize("name", BENCHMARKS)
def test_a_benchmark_imports_the_project_normally_and_writes_json_only_through_shared(name):
    with open(os.path.join(ROOT, "benchmarks", f"{name}.py")) as handle:
        source = handle.read()
    assert "sys.path" not in source
    assert not re.search(r"\btf\.[\w.]+\s*=[^=]", source), "patches TensorFlow"
    assert "json.dump(" not in source, "a results file that bypasses shared.write_results"
    importlib.import_module(f"benchmarks.{name}")


def test_a_benchmark_run_as_a_script_says_how_to_run_it():
    done = subprocess.run([sys.executable, os.path.join("benchmarks", "face_decode.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "python -m benchmarks.face_decode" in done.stderr


def test_face_decode_writes_its_figures_with_provenance(tmp_path):
    from benchmarks import face_decode

    path = tmp_path / "decode.json"
    face_decode.main(["--count", "32", "--batch-size", "16", "--epochs", "1", "--json", str(path)])
    written = json.loads(path.read_text())
    assert written["files"] == 32 and written["streaming_images_per_s"] > 0
    check_provenance(written["provenance"])
    assert written["provenance"]["settings"]["count"] == 32
