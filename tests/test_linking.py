"""Which WASI a component gets: kvredis's own when it imports wasi:http/types at any 0.2.x,
wasmtime's otherwise."""

from __future__ import annotations

from kvredis.runtime.linking import kvredis_wasi_interfaces, wants_kvredis_wasi


def test_importing_wasi_http_types_at_any_0_2_selects_kvredis_wasi() -> None:
    for version in ("0.2.0", "0.2.9", "0.2.12"):
        assert wants_kvredis_wasi(["wasi:io/streams@0.2.0", f"wasi:http/types@{version}"])


def test_other_components_keep_wasmtime_wasi() -> None:
    assert not wants_kvredis_wasi(["wasi:cli/stdout@0.2.0", "wasi:keyvalue/store@0.2.0-draft"])
    assert not wants_kvredis_wasi(["wasi:http/types@0.3.0"])  # another major: not ours
    assert not wants_kvredis_wasi(["wasi:http/types"])


def test_kvredis_wasi_serves_all_of_wasi_0_2_and_wasi_http_imports() -> None:
    assert {
        "wasi:http/types",
        "wasi:http/outgoing-handler",
        "wasi:io/poll",
    } <= kvredis_wasi_interfaces()
    assert "wasi:http/incoming-handler" not in kvredis_wasi_interfaces()  # an export, never ours
    assert "wasi:cli/run" not in kvredis_wasi_interfaces()
