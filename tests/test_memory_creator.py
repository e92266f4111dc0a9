"""kvredis's own linear memories (kvredis.runtime.memory_creator): a growth past the store's
budget is refused to the guest (memory.grow answers -1) and recorded for the host; growth
within it works; memories are freed with their store. In process, no server."""

from __future__ import annotations

import gc

import wasmtime
from wasmtime.component import Component, Linker

from kvredis.runtime.engine import EngineKind, engine
from kvredis.runtime.memory_creator import MemoryBudget, charged_to, live_memories

PAGE = 65536
# `grow(n)` grows the memory (one page to start) by n pages and returns memory.grow's answer.
WAT = """(component
  (core module $m
    (memory 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
  (core instance $i (instantiate $m))
  (func (export "grow") (param "pages" u32) (result s32)
    (canon lift (core func $i "grow"))))"""


def _grow(budget: MemoryBudget, pages: int) -> int:
    eng = engine(EngineKind(memory_limited=True))
    store = wasmtime.Store(eng)
    with charged_to(budget):
        instance = Linker(eng).instantiate(store, Component(eng, WAT))
    grow = instance.get_func(store, "grow")
    assert grow is not None
    answer: int = grow(store, pages)
    grow.post_return(store)
    return answer


def test_growth_within_the_budget_works_and_records_nothing() -> None:
    budget = MemoryBudget(4 * PAGE)
    assert _grow(budget, 3) == 1  # the previous size, in pages
    assert budget.refused is None


def test_growth_past_the_budget_answers_minus_one_and_is_recorded() -> None:
    budget = MemoryBudget(4 * PAGE)
    assert _grow(budget, 4) == -1
    assert budget.refused == 5 * PAGE


def test_memories_are_freed_with_their_store() -> None:
    before = live_memories()
    _grow(MemoryBudget(2 * PAGE), 1)
    gc.collect()
    assert live_memories() == before
