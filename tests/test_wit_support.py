"""The plain-Python support of the generated bindings: handle tables tell an object when its
guest drops it, and a linker serving one scope finds it for any store."""

from __future__ import annotations

import pytest

from kvredis._wit import HandleTable, OneScope, Trap


class Resource:
    def __init__(self) -> None:
        self.dropped = 0

    def drop(self) -> None:
        self.dropped += 1


def test_a_dropped_handle_drops_its_object_once_and_its_rep_is_gone() -> None:
    table: HandleTable[Resource] = HandleTable("thing")
    thing = Resource()
    rep = table.insert(thing)
    table.drop(rep)
    table.drop(rep)  # wasmtime never does this; a table must not mind
    assert thing.dropped == 1
    with pytest.raises(Trap, match="unknown thing handle"):
        table.get(rep)


def test_a_handle_handed_back_leaves_without_being_dropped() -> None:
    table: HandleTable[Resource] = HandleTable("thing")
    thing = Resource()
    assert table.take(table.insert(thing)) is thing
    assert (len(table), thing.dropped) == (0, 0)


def test_take_all_empties_the_table_oldest_first() -> None:
    table: HandleTable[Resource] = HandleTable("thing")
    things = [Resource() for _ in range(3)]
    for thing in things:
        table.insert(thing)
    assert table.take_all() == things
    assert len(table) == 0


def test_one_scope_answers_every_store_with_the_same_scope() -> None:
    scope = object()
    scopes = OneScope(scope)
    assert scopes[0x5600_0000_1000] is scope
    assert scopes[0x5600_0000_2000] is scope
