"""`kvredis conformance`, run as a user runs it: passing on Valkey and Redis 7, failing (and
naming the cases) on deliberately broken deployments, with JUnit XML for CI."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

import servers
from clikit import error_line
from support import CONFORMANCE_CASES as PARAMS
from support import VERSIONS

Cli = Callable[..., subprocess.CompletedProcess[str]]
LINE = re.compile(r"^(PASS|FAIL) (draft2?) ([\w-]+)(?: \([\d.]+ s\)|: (.+))$")
CLOSING = re.compile(r"^(\d+) passed, (\d+) failed$")
EXPECTED = {v: sorted(name for ver, name in PARAMS if ver == v) for v in VERSIONS}


class Report:
    """The command's output, read back: one status per (version, case), and the totals."""

    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.stdout = done.stdout
        self.cases: dict[tuple[str, str], tuple[str, str]] = {}
        lines = done.stdout.splitlines()
        assert lines, f"no output; stderr: {done.stderr}"
        assert lines[0].startswith("kvredis conformance against "), lines[0]
        for line in lines[1:-1]:
            match = LINE.match(line)
            assert match, f"not a case line: {line!r}"
            status, version, name, note = match.groups()
            assert (version, name) not in self.cases, f"{version} {name} reported twice"
            self.cases[(version, name)] = (status, note or "")
        closing = CLOSING.match(lines[-1])
        assert closing, f"no closing line: {lines[-1]!r}"
        self.passed, self.failed = int(closing.group(1)), int(closing.group(2))
        assert self.passed == sum(s == "PASS" for s, _ in self.cases.values())
        assert self.failed == sum(s == "FAIL" for s, _ in self.cases.values())

    def names(self, version: str) -> list[str]:
        return sorted(name for ver, name in self.cases if ver == version)

    def failures(self) -> dict[tuple[str, str], str]:
        return {case: note for case, (status, note) in self.cases.items() if status == "FAIL"}


def read_junit(path: Path) -> dict[str, dict[str, str | None]]:
    """testsuite name -> {case name: failure message or None}, with the counts checked."""
    root = ElementTree.parse(path).getroot()
    assert root.tag == "testsuites"
    suites: dict[str, dict[str, str | None]] = {}
    for suite in root.findall("testsuite"):
        cases: dict[str, str | None] = {}
        for case in suite.findall("testcase"):
            failure = case.find("failure")
            cases[case.attrib["name"]] = None if failure is None else failure.attrib["message"]
            assert float(case.attrib["time"]) >= 0
        assert int(suite.attrib["tests"]) == len(cases)
        assert int(suite.attrib["failures"]) == sum(m is not None for m in cases.values())
        suites[suite.attrib["name"]] = cases
    assert int(root.attrib["tests"]) == sum(len(c) for c in suites.values())
    assert int(root.attrib["failures"]) == sum(
        m is not None for c in suites.values() for m in c.values()
    )
    return suites


# --- passing ---------------------------------------------------------------------------------


def test_passes_on_every_server_with_junit(
    server: servers.ServerProcess, cli: Cli, tmp_path: Path
) -> None:
    junit = tmp_path / "report.xml"
    report = Report(cli("conformance", "--redis-url", server.url, "--junit", junit))
    assert report.code == 0, report.stdout
    assert report.failures() == {}
    assert report.names("draft") == EXPECTED["draft"]
    assert report.names("draft2") == EXPECTED["draft2"]
    assert report.failed == 0 and report.passed == len(PARAMS)
    suites = read_junit(junit)
    assert sorted(suites) == ["wasi:keyvalue@0.2.0-draft", "wasi:keyvalue@0.2.0-draft2"]
    assert sorted(suites["wasi:keyvalue@0.2.0-draft"]) == EXPECTED["draft"]
    assert sorted(suites["wasi:keyvalue@0.2.0-draft2"]) == EXPECTED["draft2"]
    assert all(m is None for cases in suites.values() for m in cases.values())
    # The suite cleans up after itself: safe to point at a shared deployment.
    assert server.client().dbsize() == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_version_selects_one_suite(
    valkey_server: servers.ServerProcess, cli: Cli, tmp_path: Path, version: str
) -> None:
    junit = tmp_path / "report.xml"
    done = cli(
        "conformance", "--redis-url", valkey_server.url, "--version", version, "--junit", junit
    )
    report = Report(done)
    assert report.code == 0, report.stdout
    assert {ver for ver, _ in report.cases} == {version}
    assert report.names(version) == EXPECTED[version]
    assert list(read_junit(junit)) == [f"wasi:keyvalue@0.2.0-{version}"]


def test_embedded_server_by_default(cli: Cli, tmp_path: Path) -> None:
    report = Report(cli("conformance", cwd=tmp_path))
    assert report.code == 0, report.stdout
    assert report.passed == len(PARAMS) and report.failed == 0
    assert "unix://" in report.stdout.splitlines()[0]
    # A throwaway data directory: nothing is left in the working directory.
    assert list(tmp_path.iterdir()) == []


def test_data_dir_holds_the_embedded_servers_data(cli: Cli, tmp_path: Path) -> None:
    data, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    report = Report(cli("conformance", "--data-dir", data, "-k", "overwrite", cwd=work))
    assert report.code == 0, report.stdout
    assert report.passed == 2
    assert data.is_dir() and any(data.iterdir()), "the server kept nothing in --data-dir"
    assert list(work.iterdir()) == []
    assert servers.embedded_processes(data) == {}, "the server outlived the run"


def test_redis_url_from_the_environment(
    valkey_server: servers.ServerProcess, cli: Cli, tmp_path: Path
) -> None:
    done = cli("conformance", "--version", "draft2", env={"REDIS_URL": valkey_server.url})
    report = Report(done)
    assert report.code == 0, report.stdout
    assert str(valkey_server.socket) in report.stdout.splitlines()[0]


def test_select_cases_with_k(valkey_server: servers.ServerProcess, cli: Cli) -> None:
    report = Report(cli("conformance", "--redis-url", valkey_server.url, "-k", "cas-"))
    assert report.code == 0
    assert report.names("draft") == []
    assert report.names("draft2") == [n for n in EXPECTED["draft2"] if "cas-" in n]
    done = cli("conformance", "--redis-url", valkey_server.url, "-k", "no-such-case")
    assert done.returncode == 1
    assert done.stdout.splitlines()[-2:] == [
        "no case matches -k 'no-such-case'",
        "0 passed, 0 failed",
    ]


def test_setup_errors_are_one_line_with_status_2(cli: Cli, tmp_path: Path) -> None:
    port = servers.free_port()
    done = cli("conformance", "--redis-url", f"redis://:pw-secret@127.0.0.1:{port}")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "pw-secret" not in done.stderr and "cannot reach Redis" in done.stderr
    done = cli("conformance", "--junit", tmp_path / "missing" / "report.xml")
    assert done.returncode == 2
    assert "no such directory" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_junit_report_names_a_setup_error(cli: Cli, tmp_path: Path) -> None:
    secured = servers.start("valkey", tmp_path / "server", password="r1ght-pw")
    try:
        wrong = secured.url.replace("r1ght-pw", "wr0ng-pw")
        junit = tmp_path / "report.xml"
        done = cli("conformance", "--redis-url", wrong, "--junit", junit)
    finally:
        secured.stop()
    line = error_line(done, 2)
    assert "refused the credentials" in line
    # A CI job that uploads the report `if: always()` has one failed case saying why.
    suites = read_junit(junit)
    assert suites == {"kvredis conformance setup": {"setup": line.removeprefix("kvredis: ")}}
    assert "wr0ng-pw" not in junit.read_text() + done.stdout + done.stderr


# --- failing on broken deployments -----------------------------------------------------------


@pytest.fixture(params=servers.available())
def read_only_replica(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[servers.ServerProcess]:
    """A replica of a fresh primary, in sync: it serves reads and refuses every write."""
    kind = request.param
    primary = servers.start(
        kind, tmp_path / "primary", tcp=True, config=["repl-diskless-sync-delay 0"]
    )
    replica = None
    try:
        replica = servers.start(
            kind, tmp_path / "replica", config=[f"replicaof 127.0.0.1 {primary.port}"]
        )
        deadline = time.monotonic() + 30
        while replica.client().info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica did not sync"
            time.sleep(0.05)
        yield replica
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()


def test_fails_on_a_read_only_replica_naming_the_cases(
    read_only_replica: servers.ServerProcess, cli: Cli, tmp_path: Path
) -> None:
    junit = tmp_path / "report.xml"
    report = Report(cli("conformance", "--redis-url", read_only_replica.url, "--junit", junit))
    assert report.code == 1
    failures = report.failures()
    assert report.failed == len(failures) > 0
    for version in VERSIONS:
        assert report.names(version) == EXPECTED[version]  # every case ran and was reported
        # Cases that write fail, saying why; cases that only read still pass.
        for case in ("overwrite", "binary-values", "increment-creates-decimal-counter"):
            assert "read only replica" in failures[(version, case)], failures.get((version, case))
        assert report.cases[(version, "get-missing-is-none")][0] == "PASS"
    assert report.cases[("draft2", "cas-swap-succeeds")][0] == "FAIL"
    suites = read_junit(junit)
    in_junit = {
        (name.rsplit("-", 1)[-1], case): message
        for name, cases in suites.items()
        for case, message in cases.items()
        if message is not None
    }
    assert set(in_junit) == set(failures)
    assert all("read only replica" in m for m in in_junit.values() if m)


@pytest.mark.parametrize("kind", servers.available())
def test_fails_on_a_server_out_of_memory(cli: Cli, tmp_path: Path, kind: str) -> None:
    full = servers.start(
        kind, tmp_path / kind, config=["maxmemory 1mb", "maxmemory-policy noeviction"]
    )
    try:
        junit = tmp_path / "report.xml"
        report = Report(cli("conformance", "--redis-url", full.url, "--junit", junit))
    finally:
        full.stop()
    assert report.code == 1
    assert report.failed > 0
    failures = report.failures()
    for version in VERSIONS:
        assert "maxmemory" in failures[(version, "one-mebibyte-value")]
    suites = read_junit(junit)
    message = suites["wasi:keyvalue@0.2.0-draft2"]["one-mebibyte-value"]
    assert message is not None and "maxmemory" in message
