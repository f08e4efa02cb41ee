"""The benchmark's smoke run (D=20): every figure is measured; no time is asserted."""

from __future__ import annotations

from pathlib import Path

from qms.benchmark.__main__ import measure, report


def test_benchmark_smoke(tmp_path: Path) -> None:
    row = measure(tmp_path, 20, 10)
    for key in ("floor_s", "build_s", "rebuild_s", "verify_s", "gpg_loop_s", "build_peak_mb"):
        assert row[key] > 0, key
    assert row["signatures"] == 60
    assert row["build_code"] == 0  # the synthetic handbook is valid and fully signed
    table = report([row]).splitlines()
    assert table[0].startswith("| D | K | floor (s) | build (s) | build / floor |")
    assert table[2].startswith("| 20 | 10 | ")


def test_training_benchmark_smoke(tmp_path: Path) -> None:
    from qms.benchmark.__main__ import measure_training, report_training

    row = measure_training(tmp_path, 5, 25)
    assert row["completions"] == 125 and row["signatures"] == 2  # sessions of 20: 20 + 5
    assert row["status_code"] == 0  # every record verified and counted
    for key in ("status_s", "gpg_loop_s", "incremental_s", "status_cpu_s", "peak_mb"):
        assert row[key] > 0, key
    table = report_training(row).splitlines()
    assert table[0].startswith("| P | D | completions | signatures | status (s) |")
    assert "| incremental / cold |" in table[0] and "| CPU incremental / cold |" in table[0]
    assert table[2].startswith("| 25 | 5 | 125 | 2 | ")


def test_history_benchmark_smoke(tmp_path: Path) -> None:
    from qms.benchmark.__main__ import measure_history, report_history

    row = measure_history(tmp_path, 20, 10, 40)
    # 40 daily commits from tomorrow end at least one month, and that month is counted.
    assert row["commits"] > 40 and row["points"] >= 2
    assert row["build_code"] == 0  # the dashboard and its history build without a warning
    for key in ("cold_s", "warm_s", "build_s", "warm_build_s"):
        assert row[key] > 0, key
    # Measured inside the build that draws it: a part of that build.
    assert row["cold_s"] < row["build_s"] and row["warm_s"] < row["warm_build_s"]
    table = report_history(row).splitlines()
    assert table[0].startswith("| D | commits | points | counted, nothing kept (s) | build (s) |")
    assert "| counted / build |" in table[0]
    assert table[2].startswith(f"| 20 | {row['commits']} | {row['points']} | ")


def test_training_benchmark_smoke_with_own_keys(tmp_path: Path) -> None:
    from qms.benchmark.__main__ import measure_training

    # Each person signs one record per document with their own key, which the roster lists.
    row = measure_training(tmp_path, 2, 3, per_acknowledgement=True)
    assert row["completions"] == 6 and row["signatures"] == 6
    assert row["status_code"] == 0  # every acknowledgement verified and counted
    assert row["incremental_s"] > 0 and row["incremental_cpu_s"] > 0
