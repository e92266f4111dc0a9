"""Security: credentials never shown (messages, --verbose logs, exception text, what the guest
sees), rediss:// with a CA the test makes itself, bucket allowlists, keys confined to their
bucket's prefix (seen by MONITOR), and an embedded server reachable only by its owner."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import kvredis
import servers
from faultkit import (
    Monitor,
    embedded_server,
    host_crashed,
    mode_of,
    one,
    run_script,
    socket_inodes,
    tcp_listeners,
)
from kvredis.layout import KeyLayout, glob_escape
from support import run_kvredis

PASSWORD = "Kv-S3cr3t.pw~42"
# Needs percent-encoding in a URL: '@', ':', '/', '#' and '?'.
AWKWARD = "p@ss:w/rd#?1"


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


@pytest.fixture(params=servers.available())
def guarded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[servers.ServerProcess]:
    """A server on a loopback port that requires PASSWORD."""
    server = servers.start(request.param, tmp_path / "server", tcp=True, password=PASSWORD)
    try:
        yield server
    finally:
        server.stop()


def _secret_free(text: str, *secrets: str) -> None:
    for secret in secrets or (PASSWORD,):
        for form in {secret, quote(secret, safe="")}:
            assert form not in text, f"{form!r} shown in: {text}"


def _script_call(bucket: str, ops: list[list[Any]]) -> str:
    import json  # noqa: PLC0415 - only for building the --invoke text

    return f"script({json.dumps(bucket)}, {json.dumps(json.dumps(ops))})"


# --- redaction ----------------------------------------------------------------------------


def test_cli_output_and_verbose_logs_never_show_the_password(
    guarded: servers.ServerProcess, faults: Path
) -> None:
    url = guarded.url
    call = _script_call("b", [["set", "k", "01"], ["get", "k"]])
    done = run_kvredis("run", "-v", "--redis-url", url, "--invoke", call, faults)
    assert done.returncode == 0, done.stderr
    assert "redis://:***@127.0.0.1" in done.stderr  # --verbose names the server, redacted
    _secret_free(done.stdout + done.stderr)

    wrong = url.replace(PASSWORD, "Wr0ng-" + PASSWORD)
    done = run_kvredis("run", "-v", "--redis-url", wrong, "--invoke", call, faults)
    assert done.returncode == 2
    assert "refused the credentials" in done.stderr
    _secret_free(done.stdout + done.stderr, PASSWORD, "Wr0ng-" + PASSWORD)

    done = run_kvredis("run", "-v", "--invoke", call, faults, env={"REDIS_URL": url})
    assert done.returncode == 0, done.stderr
    _secret_free(done.stdout + done.stderr)


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@127.0.0.1:notaport",
        f"http://:{PASSWORD}@127.0.0.1:6379",
        f"redis://:{PASSWORD}@127.0.0.1:6379/notadb",
        f"redis://:{AWKWARD}@127.0.0.1:6379",
        f"redis://:{PASSWORD}@127.0.0.1:1",
        f"unix:///nonexistent/s.sock?password={PASSWORD}",
    ],
)
def test_bad_or_unreachable_urls_never_show_the_password(faults: Path, url: str) -> None:
    done = run_kvredis("run", "-v", "--redis-url", url, "--invoke", 'script("b", "[]")', faults)
    assert done.returncode == 2, done.stderr
    assert not host_crashed(done.stderr), done.stderr
    _secret_free(done.stdout + done.stderr, PASSWORD, AWKWARD)
    with pytest.raises(kvredis.KvredisError) as raised:
        kvredis.Host(url).start()
    shown = (
        str(raised.value) + repr(raised.value) + "".join(traceback.format_exception(raised.value))
    )
    _secret_free(shown, PASSWORD, AWKWARD)


def test_api_exceptions_logs_and_guest_messages_never_show_the_password(
    guarded: servers.ServerProcess, faults: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = guarded.url.replace(PASSWORD, "Wr0ng-" + PASSWORD)
    with pytest.raises(kvredis.RedisUnavailable, match="refused the credentials") as raised:
        kvredis.Host(wrong).start()
    everything = [str(raised.value), repr(raised.value)]
    everything += traceback.format_exception(raised.value)
    with kvredis.Host(guarded.url) as host:
        assert "***" in host.url
        everything.append(host.url)
        instance = host.load(faults).instantiate()
        assert one(instance, "b", "set", "k", "01") == {"ok": None}
        guarded.kill9()
        for op in (["get", "k"], ["increment", "n", 1], ["cas", "s", "k"], ["list-page", None]):
            outcome = one(instance, "b", *op)
            assert outcome["err"] == "other", outcome
            everything.append(outcome["message"])
    everything += [record.getMessage() for record in caplog.records]
    everything += [record.exc_text or "" for record in caplog.records]
    _secret_free("\n".join(everything), PASSWORD, "Wr0ng-" + PASSWORD)


@pytest.mark.parametrize("form", ["authority", "query"])
def test_a_password_that_needs_encoding_is_hidden_in_every_form(
    tmp_path: Path, faults: Path, form: str
) -> None:
    server = servers.start(servers.available()[0], tmp_path / "server", tcp=True)
    server.client().config_set("requirepass", AWKWARD)
    server.password = AWKWARD
    encoded = quote(AWKWARD, safe="")
    if form == "authority":
        url = f"redis://:{encoded}@127.0.0.1:{server.port}"
    else:
        url = f"unix://{server.socket}?password={encoded}"
    try:
        call = _script_call("b", [["set", "k", "01"]])
        done = run_kvredis("run", "-v", "--redis-url", url, "--invoke", call, faults)
        assert done.returncode == 0, done.stderr
        assert server.client().get(b"b:k") == b"\x01"
        _secret_free(done.stdout + done.stderr, AWKWARD)
        with kvredis.Host(url) as host:
            shown = host.url
            instance = host.load(faults).instantiate()
            server.kill9()
            outcome = one(instance, "b", "get", "k")
        assert outcome["err"] == "other"
        _secret_free(outcome["message"] + shown, AWKWARD)
    finally:
        server.stop()


# --- TLS ----------------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A CA made for this test run, and a server certificate for 127.0.0.1 signed by it."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    where = tmp_path_factory.mktemp("tls")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=kvredis test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=where,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=where,
    )  # fmt: skip
    (where / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        cwd=where,
    )  # fmt: skip
    return {
        "ca": str(where / "ca.pem"),
        "cert": str(where / "server.pem"),
        "key": str(where / "server.key"),
    }


@pytest.fixture
def tls_server(tmp_path: Path, certificates: dict[str, str]) -> Iterator[servers.ServerProcess]:
    errors = []
    for kind in reversed(servers.available()):  # Debian's redis-server is built with TLS
        try:
            server = servers.start(kind, tmp_path / kind, tls=certificates, password=PASSWORD)
        except RuntimeError as exc:
            errors.append(f"{kind}: {exc}")
            continue
        try:
            yield server
        finally:
            server.stop()
        return
    pytest.skip("no server here supports TLS: " + "; ".join(errors))


def test_rediss_with_the_test_ca(
    tls_server: servers.ServerProcess, faults: Path, certificates: dict[str, str]
) -> None:
    assert tls_server.url.startswith(f"rediss://:{PASSWORD}@127.0.0.1:")
    call = _script_call("b", [["set", "k", "01"], ["increment", "n", 2]])
    done = run_kvredis(
        "run", "--redis-url", tls_server.url, "--tls-ca-cert", certificates["ca"],
        "--invoke", call, faults,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert tls_server.client().get(b"b:k") == b"\x01"
    settings = kvredis.ConnectionSettings(tls_ca_cert=certificates["ca"])
    with kvredis.Host(tls_server.url, connection=settings) as host:
        assert one(host.load(faults), "b", "increment", "n", 1) == {"ok": 3}


def test_rediss_without_the_ca_fails_clearly(
    tls_server: servers.ServerProcess, faults: Path
) -> None:
    done = run_kvredis(
        "run", "--redis-url", tls_server.url, "--invoke", 'script("b", "[]")', faults
    )
    assert done.returncode == 2
    assert "certificate" in done.stderr and "--tls-ca-cert" in done.stderr, done.stderr
    assert not host_crashed(done.stderr)
    _secret_free(done.stdout + done.stderr)
    with pytest.raises(kvredis.RedisUnavailable, match="is not trusted"):
        kvredis.Host(tls_server.url).start()


def test_tls_flag_names_a_missing_file(tls_server: servers.ServerProcess, faults: Path) -> None:
    done = run_kvredis(
        "run", "--redis-url", tls_server.url, "--tls-ca-cert", "/nonexistent/ca.pem",
        "--invoke", 'script("b", "[]")', faults,
    )  # fmt: skip
    assert done.returncode == 2
    assert "/nonexistent/ca.pem" in done.stderr
    _secret_free(done.stdout + done.stderr)


# --- which buckets, which keys ------------------------------------------------------------


def test_only_allowlisted_buckets_open(server: servers.ServerProcess, faults: Path) -> None:
    db = server.client()
    flags = ("--bucket", "allowed", "--bucket", "a:b")
    for bucket, expected in (("allowed", "ok"), ("a:b", "ok"), ("a", "no-such-store"),
                             ("denied", "no-such-store"), ("", "no-such-store")):  # fmt: skip
        call = _script_call(bucket, [["set", "k", "01"]])
        done = run_kvredis("run", "--redis-url", server.url, *flags, "--invoke", call, faults)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout, (bucket, done.stdout)
    assert sorted(db.keys()) == [b"a%3Ab:k", b"allowed:k"]
    with kvredis.Host(server.url, buckets=["allowed"]) as host:
        component = host.load(faults)
        assert run_script(component, "denied", [["get", "k"]]) == [
            {"err": "no-such-store", "message": ""}
        ]
        assert one(component, "allowed", "get", "k") == {"ok": "01"}


BUCKETS = ["b", "g*", "g?", "[g]", "g\\", "p:q", "a%b", "\x00", ""]


def _keys_touched(command: list[bytes]) -> tuple[list[bytes], bytes | None]:
    """The key arguments of a command kvredis sends, and a SCAN's MATCH pattern."""
    name = command[0].upper()
    args = command[1:]
    if name in (b"GET", b"SET", b"EXISTS", b"INCRBY"):
        return [args[0]], None
    if name in (b"DEL", b"MGET"):
        return list(args), None
    if name == b"MSET":
        return list(args[0::2]), None
    if name in (b"EVALSHA", b"EVAL"):
        return list(args[2 : 2 + int(args[1])]), None
    if name == b"SCAN":
        upper = [a.upper() for a in args]
        return [], args[upper.index(b"MATCH") + 1] if b"MATCH" in upper else b"*"
    return [], None


@pytest.mark.parametrize("bucket", BUCKETS, ids=[repr(b) for b in BUCKETS])
def test_a_guest_reads_and_lists_only_its_own_prefix(
    server: servers.ServerProcess, faults: Path, bucket: str
) -> None:
    db = server.client()
    prefix = KeyLayout().prefix(bucket)
    # Keys around the bucket's prefix: other buckets, look-alikes, and raw keys.
    db.mset({b"g:k": b"1", b"gx:k": b"2", b"b\\:k": b"3", b"plain": b"4", prefix[:-1]: b"5"})
    db.set(prefix + b"mine", b"6")
    ops: list[list[Any]] = [
        ["get", "mine"],
        ["get", ":k"],
        ["exists", "k"],
        ["list-all"],
        ["list-page", None],
        ["get-many", ["mine", "../g:k", "*"]],
        ["set-many", [["n", "01"]]],
        ["delete-many", ["n"]],
        ["increment", "c", 1],
        ["cas", "s", "mine"],
        ["swap", "s", "37"],
        ["set", "*", "01"],
        ["delete", "*"],
    ]
    with kvredis.Host(server.url) as host:
        component = host.load(faults)
        assert one(component, bucket, "exists", "warm") == {"ok": False}
        with Monitor(str(server.socket)) as monitor:
            outcomes = run_script(component, bucket, ops)
    assert outcomes[3] == {"ok": ["mine"]}, outcomes[3]
    assert outcomes[5]["ok"][1:] == [None, None]
    seen = 0
    for command in monitor:
        keys, pattern = _keys_touched(command)
        for key in keys:
            assert key.startswith(prefix), f"{command} touched {key!r} outside {prefix!r}"
            seen += 1
        if pattern is not None:
            assert pattern == glob_escape(prefix) + b"*", f"{command} lists outside {prefix!r}"
            seen += 1
    assert seen >= len(ops), f"MONITOR saw too little: {monitor.commands}"


# --- the embedded server ------------------------------------------------------------------


def test_embedded_server_listens_only_on_a_private_unix_socket(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with kvredis.Host(data_dir=data_dir) as host:
        url = host.redis_url
        assert url.startswith("unix://") and "?" not in url and "@" not in url
        sock = Path(url.removeprefix("unix://"))
        assert mode_of(sock.parent) == 0o700, oct(mode_of(sock.parent))
        assert sock.parent.stat().st_uid == os.getuid()
        assert mode_of(sock) & 0o077 == 0, oct(mode_of(sock))
        pid = embedded_server(data_dir)
        listening = set(tcp_listeners()) & socket_inodes(pid)
        assert not listening, f"the embedded server listens on TCP: {listening}"
        assert "port 0" in (data_dir / "valkey.conf").read_text().splitlines()
    assert not sock.parent.exists(), "the socket directory outlived the server"
