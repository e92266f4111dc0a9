"""Integration tests of the HTTP counter, written as a kvredis user writes them: requests go
to the component in-process through `kvredis.http`, an httpx client (no port, no server).

Build the component first: `python scripts/guests.py example http-counter`.
"""

from pathlib import Path

COUNTER = Path(__file__).parent / "build" / "http-counter.wasm"


def test_get_name_counts_name_in_redis(kvredis):
    client = kvredis.http(COUNTER)
    assert client.get("/hits").text == "1\n"
    assert client.get("/hits").text == "2\n"
    assert kvredis.redis.get("counter:hits") == b"2"


def test_the_count_starts_from_what_redis_holds(kvredis):
    kvredis.redis.set("counter:visits", "41")
    answer = kvredis.http(COUNTER).get("/visits")
    assert (answer.status_code, answer.text) == (200, "42\n")
    assert answer.headers["content-type"] == "text/plain"


def test_only_get_on_a_name_counts(kvredis):
    client = kvredis.http(COUNTER)
    assert client.post("/hits", content=b"ignored").status_code == 405
    assert client.get("/").status_code == 404
    assert kvredis.redis.dbsize() == 0


def test_the_bucket_comes_from_the_query(kvredis):
    assert kvredis.http(COUNTER).get("/hits?bucket=site").text == "1\n"
    assert kvredis.redis.get("site:hits") == b"1"
