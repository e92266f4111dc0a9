"""kvredis.canon's readers and writers of the value shapes WASI uses, each written into a
value and read back (no engine, no guest): scalars of every width, enums, flags, variants,
records and results."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kvredis import canon
from kvredis._wit import Trap
from kvredis.canon.c_api import val_delete


@contextmanager
def value() -> Iterator[int]:
    """The address of a zeroed component value, whose contents are freed afterwards."""
    buffer = ctypes.create_string_buffer(canon.VAL_SIZE)
    address = ctypes.addressof(buffer)
    try:
        yield address
    finally:
        val_delete(address)


SCALARS: list[tuple[Callable[[int, Any], None], Callable[[int], Any], Any]] = [
    (canon.lower_u8, canon.lift_u8, 255),
    (canon.lower_u16, canon.lift_u16, 65535),
    (canon.lower_u32, canon.lift_u32, 2**32 - 1),
    (canon.lower_u64, canon.lift_u64, 2**64 - 1),
    (canon.lower_s8, canon.lift_s8, -128),
    (canon.lower_s16, canon.lift_s16, -2),
    (canon.lower_s32, canon.lift_s32, -(2**31)),
    (canon.lower_s64, canon.lift_s64, -(2**63)),
    (canon.lower_f32, canon.lift_f32, 1.5),
    (canon.lower_f64, canon.lift_f64, -0.1),
    (canon.lower_char, canon.lift_char, "é"),
    (canon.lower_bool, canon.lift_bool, True),
]


@pytest.mark.parametrize(("lower", "lift", "scalar"), SCALARS)
def test_scalars_round_trip(
    lower: Callable[[int, Any], None], lift: Callable[[int], Any], scalar: Any
) -> None:
    with value() as address:
        lower(address, scalar)
        assert lift(address) == scalar


@pytest.mark.parametrize(
    ("lower", "out_of_range"),
    [(canon.lower_u8, 256), (canon.lower_u16, -1), (canon.lower_s8, 128), (canon.lower_s32, 2**31)],
)
def test_a_host_value_out_of_range_traps(
    lower: Callable[[int, int], None], out_of_range: int
) -> None:
    with value() as address, pytest.raises(Trap, match="out of range"):
        lower(address, out_of_range)


def test_enums_and_flags_travel_by_case_name() -> None:
    with value() as address:
        canon.lower_enum(address, "would-block")
        assert canon.lift_enum(address) == "would-block"
    with value() as address:
        canon.lower_flags(address, [b"read", b"mutate-directory"])
        assert canon.lift_flags(address) == ["read", "mutate-directory"]
    with value() as address:
        canon.lower_flags(address, [])
        assert canon.lift_flags(address) == []


def test_variants_with_and_without_a_payload() -> None:
    with value() as address:
        box = canon.new_box()
        canon.lower_string(box, "PROPFIND")
        canon.lower_variant(address, b"other", box)
        case, payload = canon.lift_variant(address)
        assert (case, canon.lift_string(payload)) == ("other", "PROPFIND")
    with value() as address:
        canon.lower_variant(address, b"get", None)
        assert canon.lift_variant(address) == ("get", 0)


def test_records_read_their_fields_in_order() -> None:
    with value() as address:
        fields = canon.lower_record(address, (b"seconds", b"nanoseconds"))
        canon.lower_u64(fields[0], 1_700_000_000)
        canon.lower_u32(fields[1], 999_999_999)
        read = canon.lift_record(address, 2)
        assert (canon.lift_u64(read[0]), canon.lift_u32(read[1])) == (1_700_000_000, 999_999_999)


def test_results_as_values_say_which_case_they_are() -> None:
    with value() as address:
        box = canon.new_box()
        canon.lower_u16(box, 404)
        canon.lower_result(address, False, box)
        ok, payload = canon.lift_result(address)
        assert (ok, canon.lift_u16(payload)) == (False, 404)
    with value() as address:
        canon.lower_result(address, True, None)
        assert canon.lift_result(address) == (True, 0)
