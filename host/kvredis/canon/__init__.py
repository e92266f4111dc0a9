"""Component values at the C boundary: the one package that touches wasmtime's ffi and ctypes.

wasmtime-py's generic conversion re-reads a function's type on every call and converts a
``list<u8>`` one Python call per byte. The generated bindings instead read and write
``wasmtime_component_val_t`` memory directly, with each function's shape fixed at generation
time. One module per job:

- `c_api`: the C functions, the value layout and error objects;
- `values`: lifting and lowering single values;
- `bulk`: whole lists in one pass (one arena, one deep copy);
- `registry`: host functions and resource destructors registered as C callbacks, kept alive
  without a lock, and the store key per-store state is found under;
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
from kvredis.canon.registry import Destructor, Handler, add_func, add_resource, store_key, trap_on
from kvredis.canon.values import (
    Blob,
    lift_bool,
    lift_borrow,
    lift_bytes,
    lift_char,
    lift_enum,
    lift_f32,
    lift_f64,
    lift_flags,
    lift_list,
    lift_option,
    lift_own,
    lift_record,
    lift_result,
    lift_s8,
    lift_s16,
    lift_s32,
    lift_s64,
    lift_string,
    lift_tuple,
    lift_u8,
    lift_u16,
    lift_u32,
    lift_u64,
    lift_variant,
    lower_bool,
    lower_bytes,
    lower_char,
    lower_enum,
    lower_f32,
    lower_f64,
    lower_flags,
    lower_list,
    lower_option,
    lower_own,
    lower_record,
    lower_result,
    lower_s8,
    lower_s16,
    lower_s32,
    lower_s64,
    lower_string,
    lower_tuple,
    lower_u8,
    lower_u16,
    lower_u32,
    lower_u64,
    lower_variant,
    new_box,
)

__all__ = [
    "VAL_SIZE",
    "Blob",
    "Destructor",
    "ExportFunc",
    "Handler",
    "add_func",
    "add_resource",
    "lift_bool",
    "lift_borrow",
    "lift_bytes",
    "lift_char",
    "lift_enum",
    "lift_f32",
    "lift_f64",
    "lift_flags",
    "lift_list",
    "lift_option",
    "lift_own",
    "lift_record",
    "lift_result",
    "lift_s8",
    "lift_s16",
    "lift_s32",
    "lift_s64",
    "lift_string",
    "lift_string_bytes_list",
    "lift_string_list",
    "lift_tuple",
    "lift_u8",
    "lift_u16",
    "lift_u32",
    "lift_u64",
    "lift_variant",
    "lower_bool",
    "lower_bytes",
    "lower_char",
    "lower_enum",
    "lower_f32",
    "lower_f64",
    "lower_flags",
    "lower_list",
    "lower_option",
    "lower_own",
    "lower_record",
    "lower_result",
    "lower_s8",
    "lower_s16",
    "lower_s32",
    "lower_s64",
    "lower_string",
    "lower_string_bytes_option_list",
    "lower_string_list",
    "lower_tuple",
    "lower_u8",
    "lower_u16",
    "lower_u32",
    "lower_u64",
    "lower_variant",
    "new_box",
    "store_key",
    "trap_on",
]
