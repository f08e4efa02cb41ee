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
