"""Component values at the C boundary: the one package that touches wasmtime's ffi and ctypes.

wasmtime-py's generic conversion re-reads a function's type on every call and converts a
``list<u8>`` one Python call per byte. The generated bindings instead read and write
``wasmtime_component_val_t`` memory directly, with each function's shape fixed at generation
time. One module per job:

- `c_api`: the C functions, the value layout and error objects;
- `values`: lifting and lowering single values;
- `bulk`: whole lists in one pass (one arena, one deep copy);
- `registry`: host functions registered as C callbacks, kept alive without a lock;
- `calls`: calling a guest's exports with arguments lowered in place;
- `allocator`: glibc tuning for large values, applied when the engine is created.

The names below are what the generated bindings use (`canon.lift_string(...)`).
"""

from kvredis.canon.bulk import (
    lift_string_bytes_list,
    lift_string_list,
    lower_string_bytes_option_list,
    lower_string_list,
)
from kvredis.canon.c_api import VAL_SIZE
from kvredis.canon.calls import ExportFunc
from kvredis.canon.registry import Handler, add_func
from kvredis.canon.values import (
    Blob,
    lift_bool,
    lift_borrow,
    lift_bytes,
    lift_list,
    lift_option,
    lift_own,
    lift_s64,
    lift_string,
    lift_tuple,
    lift_u32,
    lift_u64,
    lower_bool,
    lower_bytes,
    lower_list,
    lower_option,
    lower_own,
    lower_record,
    lower_result,
    lower_s64,
    lower_string,
    lower_tuple,
    lower_u32,
    lower_u64,
    lower_variant,
    new_box,
)

__all__ = [
    "VAL_SIZE",
    "Blob",
    "ExportFunc",
    "Handler",
    "add_func",
    "lift_bool",
    "lift_borrow",
    "lift_bytes",
    "lift_list",
    "lift_option",
    "lift_own",
    "lift_s64",
    "lift_string",
    "lift_string_bytes_list",
    "lift_string_list",
    "lift_tuple",
    "lift_u32",
    "lift_u64",
    "lower_bool",
    "lower_bytes",
    "lower_list",
    "lower_option",
    "lower_own",
    "lower_record",
    "lower_result",
    "lower_s64",
    "lower_string",
    "lower_string_bytes_option_list",
    "lower_string_list",
    "lower_tuple",
    "lower_u32",
    "lower_u64",
    "lower_variant",
    "new_box",
]
