"""Plain Python (and JSON) values for calling a component's exports.

The mapping, shared by `Component.call` and `kvredis run --invoke`:

| WIT                 | Python                          | JSON                            |
|---------------------|---------------------------------|---------------------------------|
| bool, ints, floats  | bool, int, float                | the same                        |
| string, char        | str                             | string                          |
| list<u8>            | bytes                           | array of numbers (1)            |
| list<T>, tuple<...> | list, tuple                     | array                           |
| record              | dict keyed by WIT field name    | object                          |
| option<T>           | None or the value               | null or the value               |
| result<T, E>        | see (2)                         | see (2)                         |
| variant             | {"tag": case, "value": payload} | the same                        |
| enum                | the case name                   | string                          |
| flags               | set of names                    | array of names                  |

(1) As input, a JSON string is also accepted for list<u8>: its UTF-8 bytes.
(2) A function's own result: the ok value, or `ComponentError` whose `.value` is the err
    payload (`--invoke` prints {"err": payload} and exits 1). A nested result is
    {"ok": value} or {"err": value}.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
import sys
from typing import Any

from wasmtime.component import (
    F32,
    F64,
    S8,
    S16,
    S32,
    S64,
    U8,
    U16,
    U32,
    U64,
    Bool,
    BorrowType,
    Char,
    EnumType,
    FlagsType,
    ListType,
    OptionType,
    OwnType,
    Record,
    RecordType,
    ResourceAny,
    ResourceHost,
    ResultType,
    String,
    TupleType,
    ValType,
    Variant,
    VariantType,
)

from kvredis.errors import InvalidArguments

_INT_RANGES: dict[type, tuple[int, int]] = {
    U8: (0, 2**8 - 1),
    U16: (0, 2**16 - 1),
    U32: (0, 2**32 - 1),
    U64: (0, 2**64 - 1),
    S8: (-(2**7), 2**7 - 1),
    S16: (-(2**15), 2**15 - 1),
    S32: (-(2**31), 2**31 - 1),
    S64: (-(2**63), 2**63 - 1),
}
_SIMPLE_NAMES: dict[type, str] = {
    Bool: "bool",
    String: "string",
    Char: "char",
    F32: "f32",
    F64: "f64",
    U8: "u8",
    U16: "u16",
    U32: "u32",
    U64: "u64",
    S8: "s8",
    S16: "s16",
    S32: "s32",
    S64: "s64",
}
_INVOKE = re.compile(r"^\s*([^()\s]+)\s*\((.*)\)\s*$", re.DOTALL)

# Values shown in messages: a few levels and items deep, so that neither a huge nor a deeply
# nested value (deeper than Python's recursion limit) can make the message itself fail.
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 3
_SHOWN.maxstring = _SHOWN.maxother = 50
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = _SHOWN.maxfrozenset = 6
_MAX_SHOWN = 60


def type_name(ty: ValType) -> str:
    """A WIT-like spelling of a type, for listings and messages."""
    simple = _SIMPLE_NAMES.get(type(ty))
    if simple:
        return simple
    if isinstance(ty, ListType):
        return f"list<{type_name(ty.element)}>"
    if isinstance(ty, OptionType):
        return f"option<{type_name(ty.payload)}>"
    if isinstance(ty, ResultType):
        ok = type_name(ty.ok) if ty.ok is not None else "_"
        err = type_name(ty.err) if ty.err is not None else "_"
        return f"result<{ok}, {err}>"
    if isinstance(ty, TupleType):
        return "tuple<" + ", ".join(type_name(t) for t in ty.elements) + ">"
    if isinstance(ty, RecordType):
        return "record { " + ", ".join(f"{n}: {type_name(t)}" for n, t in ty.fields) + " }"
    if isinstance(ty, VariantType):
        cases = [n if t is None else f"{n}({type_name(t)})" for n, t in ty.cases]
        return "variant { " + ", ".join(cases) + " }"
    if isinstance(ty, EnumType):
        return "enum { " + ", ".join(ty.names) + " }"
    if isinstance(ty, FlagsType):
        return "flags { " + ", ".join(ty.names) + " }"
    if isinstance(ty, OwnType):
        return "own<resource>"
    if isinstance(ty, BorrowType):
        return "borrow<resource>"
    return type(ty).__name__.lower()


def shown(value: Any) -> str:
    """A short repr of `value` for a one-line message."""
    text = _SHOWN.repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _bad(path: str, expected: str, value: Any) -> InvalidArguments:
    return InvalidArguments(f"{path}: expected {expected}, got {shown(value)}")


def unicode_text(value: str, what: str) -> str:
    """`value`, checked to be text a component can receive. A Python string may hold a lone
    surrogate (from a JSON escape such as "\\ud800", or standing for a byte that was not
    UTF-8, as in `sys.argv`), which is not Unicode text: no component string can carry it."""
    if value.isascii():
        return value
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        if 0xDC80 <= code <= 0xDCFF:  # how Python decodes a byte that is not UTF-8
            found = f"the byte 0x{code - 0xDC00:02X}, which is not UTF-8,"
        else:
            found = f"a lone surrogate (U+{code:04X}), which is not Unicode text,"
        raise InvalidArguments(
            f"{what}: {shown(value)} holds {found} at position {exc.start}; a component "
            "can only receive valid Unicode strings"
        ) from None
    return value


def _tagged(ty: Any) -> bool:
    # wasmtime-py represents a variant-like value with an explicit Variant only when its cases'
    # Python classes overlap; mirror its rule so values round-trip exactly.
    return bool(ty._tagged())


# --- Python -> wasmtime-py -----------------------------------------------------------------


def lower(ty: ValType, value: Any, path: str = "argument") -> Any:
    """Convert a plain value to wasmtime-py's representation for type `ty`."""
    kind = type(ty)
    if kind is Bool:
        if not isinstance(value, bool):
            raise _bad(path, "a boolean", value)
        return value
    if kind in _INT_RANGES:
        lo, hi = _INT_RANGES[kind]
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise _bad(path, f"an integer in [{lo}, {hi}] ({type_name(ty)})", value)
        return value
    if kind in (F32, F64):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(path, "a number", value)
        return float(value)
    if kind is Char:
        if not isinstance(value, str) or len(value) != 1:
            raise _bad(path, "a one-character string", value)
        return unicode_text(value, path)
    if kind is String:
        if not isinstance(value, str):
            raise _bad(path, "a string", value)
        return unicode_text(value, path)
    if isinstance(ty, ListType):
        return _lower_list(ty, value, path)
    if isinstance(ty, RecordType):
        return _lower_record(ty, value, path)
    if isinstance(ty, TupleType):
        elements = ty.elements
        if not isinstance(value, list | tuple) or len(value) != len(elements):
            raise _bad(path, f"{len(elements)} values for {type_name(ty)}", value)
        return tuple(
            lower(t, v, f"{path}[{i}]")
            for i, (t, v) in enumerate(zip(elements, value, strict=True))
        )
    if isinstance(ty, OptionType):
        if value is None:
            return Variant("none") if _tagged(ty) else None
        payload = lower(ty.payload, value, path)
        return Variant("some", payload) if _tagged(ty) else payload
    if isinstance(ty, ResultType):
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("ok", "err"):
            raise _bad(path, 'an object {"ok": value} or {"err": value}', value)
        ((tag, payload),) = value.items()
        case_ty = ty.ok if tag == "ok" else ty.err
        lowered = None if case_ty is None else lower(case_ty, payload, f"{path}.{tag}")
        return Variant(tag, lowered) if _tagged(ty) else lowered
    if isinstance(ty, VariantType):
        return _lower_variant(ty, value, path)
    if isinstance(ty, EnumType):
        if value not in ty.names:
            raise _bad(path, "one of " + ", ".join(ty.names), value)
        return value
    if isinstance(ty, FlagsType):
        names = ty.names
        if not isinstance(value, list | set | tuple | frozenset) or not all(
            isinstance(flag, str) and flag in names for flag in value
        ):
            raise _bad(path, "a list of flags among " + ", ".join(names), value)
        return set(value)
    if isinstance(ty, OwnType | BorrowType):
        if not isinstance(value, ResourceAny | ResourceHost):
            raise _bad(path, "a resource handle", value)
        return value
    raise InvalidArguments(f"{path}: values of type {type_name(ty)} are not supported")


def _lower_list(ty: ListType, value: Any, path: str) -> Any:
    element = ty.element
    if isinstance(element, U8):
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        if isinstance(value, str):
            return unicode_text(value, path).encode()
        if isinstance(value, list) and all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value
        ):
            return bytes(value)
        raise _bad(path, "bytes (an array of 0-255 numbers, or a string)", value)
    if not isinstance(value, list | tuple):
        raise _bad(path, f"a list for {type_name(ty)}", value)
    return [lower(element, v, f"{path}[{i}]") for i, v in enumerate(value)]


def _lower_record(ty: RecordType, value: Any, path: str) -> Record:
    fields = ty.fields
    if not isinstance(value, dict):
        raise _bad(path, "an object with fields " + ", ".join(n for n, _ in fields), value)
    unknown = set(value) - {n for n, _ in fields}
    if unknown:
        raise _bad(
            path, "only fields " + ", ".join(n for n, _ in fields), sorted(unknown, key=repr)
        )
    record = Record()
    for name, fty in fields:
        if name not in value:
            raise InvalidArguments(f"{path}: missing field {name!r}")
        setattr(record, name, lower(fty, value[name], f"{path}.{name}"))
    return record


def _lower_variant(ty: VariantType, value: Any, path: str) -> Any:
    cases = dict(ty.cases)
    if not isinstance(value, dict) or "tag" not in value or set(value) - {"tag", "value"}:
        raise _bad(path, 'an object {"tag": case, "value": payload}', value)
    tag = value["tag"]
    if not isinstance(tag, str) or tag not in cases:
        raise _bad(f"{path}.tag", "one of " + ", ".join(cases), tag)
    case_ty = cases[tag]
    payload = None if case_ty is None else lower(case_ty, value.get("value"), f"{path}.value")
    return Variant(tag, payload) if _tagged(ty) else payload


# --- wasmtime-py -> Python -----------------------------------------------------------------


def lift(ty: ValType, value: Any) -> Any:
    """Convert a value returned by wasmtime-py to the plain mapping."""
    if isinstance(ty, ListType):
        if isinstance(ty.element, U8):
            return bytes(value)
        return [lift(ty.element, v) for v in value]
    if isinstance(ty, RecordType):
        return {name: lift(fty, getattr(value, name)) for name, fty in ty.fields}
    if isinstance(ty, TupleType):
        return tuple(lift(t, v) for t, v in zip(ty.elements, value, strict=True))
    if isinstance(ty, OptionType):
        if _tagged(ty):
            return None if value.tag == "none" else lift(ty.payload, value.payload)
        return None if value is None else lift(ty.payload, value)
    if isinstance(ty, ResultType):
        tag, payload = lift_result(ty, value)
        return {tag: payload}
    if isinstance(ty, VariantType):
        tag, payload = _variant_case(ty, ty.cases, value)
        return {"tag": tag, "value": payload}
    if isinstance(ty, FlagsType):
        return set(value)
    return value


def lift_result(ty: ResultType, value: Any) -> tuple[str, Any]:
    """('ok' or 'err', plain payload) of a result value."""
    return _variant_case(ty, [("ok", ty.ok), ("err", ty.err)], value)


def _variant_case(ty: Any, cases: list[tuple[str, ValType | None]], value: Any) -> tuple[str, Any]:
    if _tagged(ty):
        case_ty = dict(cases)[value.tag]
        return value.tag, (None if case_ty is None else lift(case_ty, value.payload))
    for name, case_ty in cases:
        if case_ty is None:
            if value is None:
                return name, None
            continue
        classes: set[type] = set()
        case_ty.add_classes(classes)
        # `object` stands for an untagged option's none: it matches None only, or the ok
        # case of result<option<T>, E> would swallow every err payload.
        if object in classes:
            if value is None:
                return name, lift(case_ty, value)
            classes.discard(object)
        if classes and isinstance(value, tuple(classes)):
            return name, lift(case_ty, value)
    raise TypeError(f"value {value!r} matches no case of {type_name(ty)}")


# --- JSON ----------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """The plain mapping, made JSON-serialisable (bytes as arrays of numbers)."""
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, ResourceAny | ResourceHost):
        return "<resource>"
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_json(value), ensure_ascii=False)


def parse_invoke(expression: str) -> tuple[str, list[Any]]:
    """Parse 'NAME(ARG, ...)' where the arguments are JSON values."""
    match = _INVOKE.match(expression)
    if not match:
        raise InvalidArguments(
            f"cannot parse --invoke {shown(expression)}: expected NAME(ARGS), "
            'for example \'bump("b", "k", 5)\''
        )
    name, body = match.group(1), match.group(2)
    if not body.strip():
        return name, []
    try:
        args = json.loads(f"[{body}]")
    except json.JSONDecodeError as exc:
        raise InvalidArguments(
            f"cannot parse the arguments of --invoke {shown(expression)} as JSON values: "
            f"{exc.msg} (at character {exc.pos})"
        ) from None
    except RecursionError:
        raise InvalidArguments(
            f"cannot parse the arguments of --invoke {shown(expression)}: arrays or objects "
            f"nested deeper than about {sys.getrecursionlimit()} levels are more than the "
            "JSON reader can take"
        ) from None
    except ValueError as exc:  # a well-formed number Python refuses (over 4300 digits)
        reason = str(exc).split(";", 1)[0]
        raise InvalidArguments(
            f"cannot parse the arguments of --invoke {shown(expression)}: {reason}"
        ) from None
    return name, args
