"""scripts/benchmarks/brian2_report.py and brian2_record.py: the report's numbers from a
small record, and the recorder's one-line error for a bad model file."""

import json

import pytest
from helpers.scripts import load_script

report = load_script("benchmarks/brian2_report")
record = load_script("benchmarks/brian2_record")


def network(
    n, examples_seen, ours_train, standalone_train, ours_spikes, same_spikes, own_spikes, runtime=None
):
    row = {
        "source": f"runs/net-{n}" if examples_seen else f"fresh:{n}",
        "n": n,
        "examples_seen": examples_seen,
        "note": "the seed-0 network" if examples_seen else "fresh (untrained)",
        "commit": "abc1234",
        "date": "D",
        "load_average_1min": [2.0, 3.25],
        "examples": 20,
        "brian2_version": "2.9.0",
        "ours": [
            {
                "train_ms": t,
                "frozen_1core_ms": t / 2,
                "train_spikes_per_example": 9.0,
                "train_boosts": 4,
                "threads": 1,
            }
            for t in ours_train
        ],
        "standalone": {
            "train": {"ms": standalone_train, "first_presentation_spikes": []},
            "frozen": {"ms": [t / 4 for t in standalone_train], "first_presentation_spikes": own_spikes},
        },
        "spikes": {"images": f"test 0-{len(ours_spikes) - 1}", "ours": ours_spikes, "brian2": same_spikes},
    }
    if runtime:
        row["runtime"] = {
            "train": {"ms": runtime, "first_presentation_spikes": []},
            "frozen": {"ms": runtime, "first_presentation_spikes": []},
        }
    return row


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "brian2.json"
    networks = [
        network(
            100, 0, [1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [1, 2, 3, 4, 5, 6], [2, 4, 6, 8, 10, 12], [1, 2, 3]
        ),
        network(
            100, 60000, [2.0, 2.0, 4.0], [30.0, 40.0, 50.0], [5, 5, 5], [5, 5, 5], [4, 6, 5], [100.0] * 3
        ),
    ]
    path.write_text(json.dumps({"commands": ["python rec.py"], "machine": "M", "networks": networks}))
    return path


def test_the_report_gives_each_rounds_spread_the_ratios_and_the_paired_tests(data):
    lines = report.report(data).splitlines()
    train = lines[lines.index("## Training, ms per example") + 4 :][:2]
    # min / median / max, ratio of medians (20 / 2) with the range the rounds allow (10/3, 30/1)
    assert train[0] == (
        "| 100 | fresh (untrained) | 1.00 / 2.00 / 3.00 | 10.0 / 20.0 / 30.0 | 10.0x (3.3-30.0) | not timed | - |"
    )
    assert train[1] == (
        "| 100 | the seed-0 network (60,000 examples trained) | 2.00 / 2.00 / 4.00 | 30.0 / 40.0 / 50.0 "
        "| 20.0x (7.5-25.0) | 100.0 / 100.0 / 100.0 | 50.0x (25.0-50.0) |"
    )
    frozen = lines[lines.index("## Frozen, ms per example") + 4]
    assert frozen.startswith(
        "| 100 | fresh (untrained) | 0.50 / 1.00 / 1.50 | 2.50 / 5.00 / 7.50 | 5.0x (1.7-15.0) |"
    )
    assert (
        "trained 20-20x faster than Brian2's C++ standalone device on the trained networks and 10-10x on the fresh"
        in ("\n".join(lines))
    )
    spikes = lines[-2:]
    # six positive differences, no ties: the exact two-sided signed-rank p is 2 / 2^6
    assert spikes[0] == (
        "| 100 | fresh (untrained) | test 0-5 | 3.5 ± 1.9 | 7.0 ± 3.7 | +3.5 | 0.031 "
        "| test 0-2 | 2.0 ± 1.0 | 2.0 ± 1.0 | all pairs equal |"
    )
    assert spikes[1].split(" | ")[6] == "all pairs equal"
    assert (
        "- N = 100: the seed-0 network (60,000 examples trained), `runs/net-100`; stdp-mnist's intensity boost "
        "added 4 presentations to its 20 training examples (median over the rounds); load average 2.0 before, "
        "3.2 after" in lines[lines.index("Networks:") + 3]
    )


def test_the_recorder_names_a_bad_model_file_in_one_line(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(SystemExit) as exit_info:
        record.main(["--network", str(bad), "--output", str(tmp_path / "out.json")])
    message = exit_info.value.code
    assert isinstance(message, str) and "\n" not in message
    assert message.startswith(f"brian2_record: error: --network {bad}: not a readable model file")
    assert not (tmp_path / "out.json").exists()
