"""The microbenchmark scripts behind results/benchmark.md still run and print their
tables (timings themselves are not asserted); the two-core prototype's own check, that
the split gives bit-identical results, runs here too."""

from helpers.scripts import load_script


def test_scatter_floor_prints_one_row_per_size(capsys):
    load_script("benchmarks/scatter_floor").main(["--sizes", "20,40", "--spikes", "30", "--rounds", "1"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[2:]] == ["| 20", "| 40"]


def test_two_core_split_matches_one_core(capsys):
    load_script("benchmarks/two_core_split").main(
        ["--neurons", "41", "--rounds", "1"]
    )  # odd: rounded down to 40
    out = capsys.readouterr().out
    assert "N=40 one core" in out and "N=40 two cores" in out and "speed-up" in out


def test_step_barrier_reports_both_loops(capsys):
    load_script("benchmarks/step_barrier").main(["--steps", "20", "--rounds", "1"])
    out = capsys.readouterr().out
    assert "parallel region per step" in out and "serial loop per step" in out
