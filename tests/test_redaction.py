"""Redaction alone (no server): passwords never survive into a message, whatever their shape."""

import pytest

from kvredis.backend.urls import UrlError, check_url, redact, redact_text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@db:6379/2", "redis://:***@db:6379/2"),
        ("redis://user:s3cret@db:6379", "redis://user:***@db:6379"),
        ("rediss://token@db:6380", "rediss://***@db:6380"),
        ("redis://db:6379/0", "redis://db:6379/0"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
        ("unix:///run/redis.sock?password=s3cret&db=1", "unix:///run/redis.sock?password=***&db=1"),
        ("redis://:pa/ss?w#rd@db:6379", "redis://:***@db:6379"),
    ],
)
def test_redact_hides_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert "s3cret" not in redact(url) and "pa/ss" not in redact(url)


def test_redact_text_finds_urls_in_sentences_and_keeps_punctuation() -> None:
    text = "cannot reach redis://:s3cret@db:6379: refused (is redis://:x@h:1/0?)"
    assert (
        redact_text(text) == "cannot reach redis://:***@db:6379: refused (is redis://:***@h:1/0?)"
    )


def test_redact_text_hides_given_secrets_anywhere() -> None:
    assert redact_text("AUTH failed for p%40ss and p@ss", "p@ss", "p%40ss") == (
        "AUTH failed for *** and ***"
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("db:6379", "scheme"),
        ("http://db:6379", "scheme"),
        ("redis://db:6379/zero", "database number"),
        ("", "empty"),
    ],
)
def test_check_url_refuses_what_cannot_work(url: str, complaint: str) -> None:
    with pytest.raises(UrlError, match=complaint) as raised:
        check_url(url)
    assert "s3cret" not in str(raised.value)
