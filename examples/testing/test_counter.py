"""Integration tests of the counter example, written as a kvredis user writes them.

Needs only kvredis and pytest installed; the `kvredis` fixture comes with the package.
"""

from pathlib import Path

# Built by `python scripts/guests.py example counter` (or `make run`).
COUNTER = Path(__file__).parent.parent / "counter" / "build" / "counter.wasm"


def test_counter_counts_in_redis(kvredis):
    first = kvredis.run(COUNTER)
    assert (first.exit_code, first.stdout) == (0, "1\n")
    assert kvredis.run(COUNTER).stdout == "2\n"
    assert kvredis.redis.get("counter:hits") == b"2"


def test_every_test_starts_with_an_empty_database(kvredis):
    assert kvredis.redis.dbsize() == 0
    kvredis.redis.set("counter:hits", "41")  # state set up with redis-py
    assert kvredis.run(COUNTER).stdout == "42\n"


def test_a_read_only_bucket_makes_the_counter_fail(kvredis):
    host = kvredis.new_host(read_only=["counter"])
    result = host.load(COUNTER).run()
    assert result.exit_code == 1
    assert "AccessDenied" in result.stdout
    assert kvredis.redis.get("counter:hits") is None
