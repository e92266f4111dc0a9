"""The three-guest table of `make bench` (scripts/bench_real_guests.py): its columns, ratios
and verdicts, from made-up timings."""

from __future__ import annotations

from bench_real_guests import Row, table, verdicts


def _rows(js_get_us: float, js_null_us: float) -> list[Row]:
    return [
        Row("get 64 B", "componentize-js", js_get_us, js_null_us, 10.0, 45.0),
        Row("set 64 B", "componentize-js", 45.0, 12.0, 10.0, 45.0),
        Row("CAS (new, current, swap)", "componentize-js", 120.0, 60.0, None, 110.0),
        Row("get 64 B", "WAT", 40.0, 5.0, 0.5, 45.0),
    ]


def test_ratios_are_redis_py_over_kvredis_and_null_backend_over_wasmtime() -> None:
    row = _rows(50.0, 13.0)[0]
    assert row.ratio_redis_py == 45.0 / 50.0
    assert row.ratio_wasmtime == 13.0 / 10.0


def test_the_table_has_both_ratio_columns_and_no_wasmtime_time_for_cas() -> None:
    text = table(_rows(50.0, 13.0))
    header = text.splitlines()[0]
    assert "ratio to redis-py" in header and "ratio to Wasmtime's own host" in header
    cas_line = next(line for line in text.splitlines() if line.startswith("| CAS"))
    assert cas_line.endswith("| n/a | 110.0 | 0.92 | n/a |")


def test_targets_are_judged_on_the_js_guest_only() -> None:
    # The WAT row is far from Wasmtime's 0.5 µs; only the JS guest's rows count.
    assert verdicts(_rows(50.0, 13.0)) == {
        "js_get_set_ratio_to_redis_py": True,
        "js_null_backend_within_1.3x_of_wasmtime": True,
    }
    missed = verdicts(_rows(51.0, 13.5))
    assert missed == {
        "js_get_set_ratio_to_redis_py": False,
        "js_null_backend_within_1.3x_of_wasmtime": False,
    }
