"""The benchmarks' side names: what a throughput variant builds, and how a whole process
is split into start-up, first iterations and steady state."""

import pytest

from benchmarks import throughput, whole_process
from genface.models import PRESETS


def test_a_preset_variant_builds_the_preset_recipe_with_only_the_speed_options_it_names():
    assert throughput.port_options("preset") == throughput.port_options("port")
    assert throughput.port_options("preset+bf16+fused") == throughput.port_options("bf16+fused")
    arguments = throughput.recipe_arguments("face", "preset+bf16+fused")
    assert arguments["discriminator_steps"] == 2 == PRESETS["best"].changes["discriminator_steps"]
    assert arguments["fidelity"] == "fixed" and arguments["ema_decay"] == 0.995
    assert "precision" not in arguments and "batch_size" not in arguments
    assert throughput.recipe_arguments("face", "bf16") == {}


def test_a_field_variant_changes_one_recipe_field_with_its_type():
    arguments = throughput.recipe_arguments("face", "preset+discriminator_steps=1+penalty_weight=0")
    assert arguments["discriminator_steps"] == 1 and isinstance(arguments["discriminator_steps"], int)
    assert arguments["penalty_weight"] == 0.0 and isinstance(arguments["penalty_weight"], float)
    with pytest.raises(SystemExit, match="no field 'critic_steps'"):
        throughput.recipe_arguments("face", "critic_steps=1")
    with pytest.raises(SystemExit, match="preset best is gan's, not wgan's"):
        throughput.recipe_arguments("wgan", "preset")


def test_a_whole_process_is_split_at_its_display_lines():
    shown = {0: 12.0, 10: 15.0, 30: 21.0, 100: 40.0, 200: 80.0, 299: 119.6}
    split = whole_process.phases({"wall": 121.0, "cpu": 120.0, "shown": shown}, steps=300)
    assert split["start_up"] == 12.0
    assert split["early_per_iteration"] == pytest.approx(0.3)
    assert split["steady_per_iteration"] == pytest.approx(0.4)
    assert split["after_last_iteration"] == pytest.approx(1.4)
