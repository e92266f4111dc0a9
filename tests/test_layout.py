"""The key layout alone (no server): where a (bucket, key) lives, and why pairs never collide."""

import itertools

import pytest

from kvredis.layout import DEFAULT_TEMPLATE, KeyLayout, LayoutError, glob_escape


def redis_key(layout: KeyLayout, bucket: str, key: str) -> bytes:
    return layout.prefix(bucket) + key.encode()


def test_plain_names_stay_readable() -> None:
    assert redis_key(KeyLayout(), "counter", "hits") == b"counter:hits"


@pytest.mark.parametrize(
    ("bucket", "prefix"),
    [("p:q", b"p%3Aq:"), ("50%", b"50%25:"), ("", b":"), ("a/b", b"a/b:"), ("*", b"*:")],
)
def test_the_bucket_part_escapes_percent_and_the_separator(bucket: str, prefix: bytes) -> None:
    assert KeyLayout().prefix(bucket) == prefix


def test_distinct_pairs_never_share_a_redis_key() -> None:
    parts = ["", "p", "q", "p:q", "q:r", ":", "%", "%3A", "p%3Aq", "::", "{", "}", "{p}", "%7D"]
    for template in (DEFAULT_TEMPLATE, "app/{bucket}/", "{bucket}|x:", "{{bucket}}:", "{{bucket}}"):
        layout = KeyLayout(template)
        seen: dict[bytes, tuple[str, str]] = {}
        for bucket, key in itertools.product(parts, parts):
            stored = redis_key(layout, bucket, key)
            assert seen.setdefault(stored, (bucket, key)) == (bucket, key), (template, stored)


def test_a_custom_template_escapes_its_own_separator() -> None:
    layout = KeyLayout("app/{bucket}/")
    assert layout.prefix("a/b") == b"app/a%2Fb/"
    assert layout.prefix("a:b") == b"app/a%3Ab/"


def test_the_raw_layout_ignores_the_bucket() -> None:
    layout = KeyLayout("")
    assert not layout.uses_bucket
    assert redis_key(layout, "any", "k") == redis_key(layout, "other", "k") == b"k"


def test_a_template_without_the_bucket_is_one_namespace() -> None:
    assert KeyLayout("shared:").prefix("b") == b"shared:"


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("{bucket}{bucket}:", "more than once"),
        ("{bucket}:{key}", "only placeholder"),
        ("app:{bucket}", "needs a separator"),
        ("{bucket", "only placeholder"),
        ("{{bucket}}{bucket}:", "more than once"),
        ("{{bucket}:", "only placeholder"),
        ("{{{bucket}}}:", "only placeholder"),
    ],
)
def test_bad_templates_are_refused_with_a_reason(template: str, complaint: str) -> None:
    with pytest.raises(LayoutError, match=complaint):
        KeyLayout(template)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [(b"g*", b"g\\*"), (b"[g]", b"\\[g\\]"), (b"a?b", b"a\\?b"), (b"\\", b"\\\\"), (b"ab", b"ab")],
)
def test_glob_escape_makes_a_literal_pattern(raw: bytes, escaped: bytes) -> None:
    assert glob_escape(raw) == escaped
