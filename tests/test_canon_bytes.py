"""list<u8> values and resource reps at the C boundary (kvredis.canon), without a guest:
lowered values read back byte-exact on both paths (one copy from the per-thread image up to
4096 bytes, an uninitialised list written in chunks above), and reps read in place."""

from __future__ import annotations

import ctypes

import pytest

from kvredis.canon import c_api, values


@pytest.mark.parametrize("size", [0, 1, 64, 4095, 4096, 4097, 70_000])
def test_lowered_bytes_read_back_byte_exact(size: int) -> None:
    value = bytes((i * 7 + size) % 256 for i in range(size))
    slot = ctypes.create_string_buffer(c_api.VAL_SIZE)
    addr = ctypes.addressof(slot)
    values.lower_bytes(addr, value)
    try:
        assert c_api.MEM[addr] == c_api.K_LIST
        assert values.lift_bytes(addr) == value
    finally:
        c_api.val_delete(addr)


def test_the_image_is_reused_without_leaking_the_last_value_into_a_shorter_one() -> None:
    slot = ctypes.create_string_buffer(c_api.VAL_SIZE)
    addr = ctypes.addressof(slot)
    for value in (b"x" * 100, b"ab", b""):
        values.lower_bytes(addr, value)
        try:
            assert values.lift_bytes(addr) == value
        finally:
            c_api.val_delete(addr)


@pytest.mark.parametrize("owned", [True, False])
def test_reps_read_in_place_match_wasmtime_s_own_answer(owned: bool) -> None:
    assert c_api.HOST_REP_OFFSET is not None, "wasmtime's resource layout changed"
    for rep in (0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF):
        host = c_api.host_new(owned, rep, 0x4B56_0100)
        try:
            in_place = c_api.Q.unpack_from(c_api.MEM, host + c_api.HOST_REP_OFFSET)[0]
            assert in_place & 0xFFFF_FFFF == c_api.host_rep(host) == rep
        finally:
            c_api.host_delete(host)
