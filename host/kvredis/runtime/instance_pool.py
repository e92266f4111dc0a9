"""The pooling instance allocator, for engines whose stores each live for one request
(`kvredis serve`, `Component.asgi`): a fresh instance per request, as `wasmtime serve` makes.

Why: an instance allocated afresh maps its linear memory copy-on-write from the compiled
image, and the guest's first writes to each page fault in the kernel; every write to a page
it first read also flushes that page from the other cores' TLBs, which costs an
inter-processor interrupt when another thread of this process runs there. For a
componentize-py guest that was a third of a request's CPU time, more with requests running
at once. From a pool, a slot's memory stays mapped between instances: when an instance ends
wasmtime puts back only the pages it wrote (the kernel's page map tells which), for the
first `KEEP_RESIDENT_BYTES` of each memory, so the next instance in that slot runs without
those faults.

A slot keeps resident what its guests wrote (up to `KEEP_RESIDENT_BYTES`), so a serving
process's memory stays at the working set of the most guests it ran at once. The compiled
code does not depend on the allocator, so pooled engines share the compiled-code cache. The
per-instance limits are wasmtime's defaults (those of `wasmtime serve`); the totals leave
room for `serve.defaults.MAX_CONCURRENCY` guests of several core instances each.
wasmtime-py's `Config` has no setters for any of this, hence the C API.
"""

from __future__ import annotations

from wasmtime import Config
from wasmtime import _ffi as ffi

MiB = 1 << 20
# Resident bytes kept per memory slot: only pages a guest wrote stay resident, so a slot
# costs what its guests touch, up to this.
KEEP_RESIDENT_BYTES = 64 * MiB
TABLE_KEEP_RESIDENT_BYTES = 1 * MiB
# Slots for this many instances alive at once. A component is several core instances with
# their memories and tables (a componentize-py guest: about 4 core instances); a memory
# slot reserves 4 GiB of address space (nothing resident until used).
MAX_COMPONENT_INSTANCES = 1000
MAX_CORE_INSTANCES = 8000
MAX_MEMORIES = 2000
MAX_TABLES = 8000


def use_pool(config: Config) -> None:
    """Make `config`'s engine allocate instances from a pool (see the module's text)."""
    pool = ffi.wasmtime_pooling_allocation_config_new()
    try:
        ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(
            pool, KEEP_RESIDENT_BYTES
        )
        ffi.wasmtime_pooling_allocation_config_table_keep_resident_set(
            pool, TABLE_KEEP_RESIDENT_BYTES
        )
        ffi.wasmtime_pooling_allocation_config_total_component_instances_set(
            pool, MAX_COMPONENT_INSTANCES
        )
        ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pool, MAX_CORE_INSTANCES)
        ffi.wasmtime_pooling_allocation_config_total_memories_set(pool, MAX_MEMORIES)
        ffi.wasmtime_pooling_allocation_config_total_tables_set(pool, MAX_TABLES)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)
