"""How the conformance runner recognises what cases left behind, and its JUnit report when
setup fails, without a server."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from xml.etree import ElementTree

import pytest

from kvredis.conformance import CaseResult, write_junit
from kvredis.conformance.leftovers import (
    ANY_CASE_PATTERN,
    STALE_AFTER_S,
    is_stale,
    new_run_id,
    run_pattern,
)

NOW = 1_800_000_000.0


def case_key(started: float, run: str = "a1b2c3", rest: bytes = b"b:k") -> bytes:
    return f"kvc-{run}-{int(started):010d}beef-".encode() + rest


@pytest.mark.parametrize(
    ("key", "stale"),
    [
        (case_key(NOW - STALE_AFTER_S - 1), True),
        (case_key(NOW - 86400 * 365, rest=b"p%3Aq:k:with:colons"), True),
        (case_key(NOW - STALE_AFTER_S + 1), False),  # a case that may still be running
        (case_key(NOW), False),
        (case_key(NOW + 3600), False),  # a clock ahead of ours
        (b"kvc-a1b2c3d4-b:k", False),  # an older naming: not this suite's to judge
        (b"kvc-A1B2C3-1700000000beef-b:k", False),
        (b"kvc-a1b2c3-170000000beef-b:k", False),  # nine digits
        (b"xkvc-a1b2c3-1700000000beef-b:k", False),
        (b"counter:hits", False),
    ],
)
def test_stale_case_keys(key: bytes, stale: bool) -> None:
    assert is_stale(key, NOW) is stale


def test_patterns_find_the_keys_they_mean() -> None:
    run = new_run_id()
    assert len(run) == 6 and int(run, 16) >= 0
    assert new_run_id() != run
    mine = case_key(NOW, run).decode()
    assert fnmatch.fnmatchcase(mine, run_pattern(run))
    assert not fnmatch.fnmatchcase(case_key(NOW, "ffffff").decode(), run_pattern(run))
    assert fnmatch.fnmatchcase(mine, ANY_CASE_PATTERN)


def test_junit_report_of_a_setup_failure(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    passed = CaseResult("draft", "overwrite", True, "ok", 0.5)
    write_junit(str(report), [passed], "redis://:***@db", "cannot reach Redis at redis://:***@db")
    root = ElementTree.parse(report).getroot()
    assert (root.attrib["tests"], root.attrib["failures"]) == ("2", "1")
    suites = {s.attrib["name"]: s for s in root.findall("testsuite")}
    assert list(suites) == ["wasi:keyvalue@0.2.0-draft", "kvredis conformance setup"]
    (setup,) = suites["kvredis conformance setup"].findall("testcase")
    assert setup.attrib["name"] == "setup"
    failure = setup.find("failure")
    assert failure is not None
    assert failure.attrib["message"] == "cannot reach Redis at redis://:***@db"
