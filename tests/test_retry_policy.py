"""The retry rules of the Redis layer (kvredis.backend.retry), one rule at a time: pure logic,
no server and no clock (time is passed in)."""

from __future__ import annotations

import ssl

import pytest
from redis import exceptions as redis_errors

from kvredis.backend.pool import failure_of
from kvredis.backend.retry import Attempts, Decision, Failure, GiveUp, RetryPolicy

BUDGET_S = 2.0
LOST = Failure(sent=True)  # the command left; its reply never came
UNREACHABLE = Failure()  # no connection could be made: nothing left this process
STALE = Failure(reused=True)  # an idle connection that broke before the command left
LOADING = Failure(sent=True, answered=True)  # an error reply: the command did not run


def attempts(retries: int = 3, max_delay_s: float = 0.3, first_delay_s: float = 0.05) -> Attempts:
    return RetryPolicy(retries, max_delay_s, first_delay_s).begin(deadline=BUDGET_S)


def test_a_lost_reply_of_an_idempotent_command_is_retried_after_the_first_backoff() -> None:
    assert attempts().after(LOST, idempotent=True, now=0.0) == Decision(0.05)


def test_a_lost_reply_of_a_command_that_is_not_idempotent_is_final() -> None:
    decision = attempts().after(LOST, idempotent=False, now=0.0)
    assert decision.give_up is GiveUp.MAYBE_APPLIED


def test_a_command_that_never_left_is_retried_even_when_not_idempotent() -> None:
    assert attempts().after(UNREACHABLE, idempotent=False, now=0.0) == Decision(0.05)


@pytest.mark.parametrize("idempotent", [True, False])
def test_an_error_reply_that_means_it_did_not_run_is_retried(idempotent: bool) -> None:
    assert attempts().after(LOADING, idempotent=idempotent, now=0.0) == Decision(0.05)


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_stale_reused_connection_costs_no_retry_and_no_wait(idempotent: bool) -> None:
    state = attempts(retries=1)
    for _ in range(5):
        assert state.after(STALE, idempotent=idempotent, now=0.0) == Decision(0.0)
    assert state.retries_used == 0
    # The one real retry is still there, with the first backoff.
    assert state.after(UNREACHABLE, idempotent=idempotent, now=0.0) == Decision(0.05)


def test_a_reused_connection_that_broke_after_sending_is_no_stale_connection() -> None:
    state = attempts()
    assert state.after(Failure(sent=True, reused=True), idempotent=True, now=0.0) == Decision(0.05)
    assert state.retries_used == 1
    decision = attempts().after(Failure(sent=True, reused=True), idempotent=False, now=0.0)
    assert decision.give_up is GiveUp.MAYBE_APPLIED


def test_a_stale_connection_past_the_deadline_gives_up() -> None:
    decision = attempts().after(STALE, idempotent=True, now=BUDGET_S)
    assert decision.give_up is GiveUp.OUT_OF_TIME


@pytest.mark.parametrize(
    "failure",
    [Failure(refused=True), Failure(refused=True, reused=True), Failure(refused=True, sent=True)],
)
@pytest.mark.parametrize("idempotent", [True, False])
def test_refused_credentials_or_certificate_are_final(failure: Failure, idempotent: bool) -> None:
    decision = attempts(retries=10).after(failure, idempotent=idempotent, now=0.0)
    assert decision.give_up is GiveUp.REFUSED


def test_retries_stop_after_the_configured_count() -> None:
    state = attempts(retries=3, max_delay_s=0.0)
    decisions = [state.after(UNREACHABLE, idempotent=True, now=0.0) for _ in range(4)]
    assert [d.give_up for d in decisions] == [None, None, None, GiveUp.RETRIES_USED]
    assert state.retries_used == 4


def test_no_retries_configured_means_the_first_failure_is_final() -> None:
    decision = attempts(retries=0).after(UNREACHABLE, idempotent=True, now=0.0)
    assert decision.give_up is GiveUp.RETRIES_USED


def test_backoff_doubles_up_to_the_maximum_delay() -> None:
    state = attempts(retries=10, max_delay_s=0.3, first_delay_s=0.05)
    delays = [state.after(LOST, idempotent=True, now=0.0).delay for _ in range(6)]
    assert delays == [0.05, 0.1, 0.2, 0.3, 0.3, 0.3]


def test_a_zero_maximum_delay_retries_at_once() -> None:
    state = attempts(retries=2, max_delay_s=0.0)
    assert state.after(LOST, idempotent=True, now=0.0) == Decision(0.0)


def test_no_retry_when_what_is_left_of_the_budget_cannot_cover_the_wait() -> None:
    state = attempts(retries=10, max_delay_s=0.3)
    assert state.after(LOST, idempotent=True, now=BUDGET_S - 0.06) == Decision(0.05)
    # The next wait would be 0.1 s, with 0.09 s left: stop rather than wake up too late.
    decision = state.after(LOST, idempotent=True, now=BUDGET_S - 0.09)
    assert decision.give_up is GiveUp.OUT_OF_TIME


def test_the_budget_is_exhausted_at_the_deadline() -> None:
    decision = attempts(max_delay_s=0.0).after(UNREACHABLE, idempotent=True, now=BUDGET_S)
    assert decision.give_up is GiveUp.OUT_OF_TIME


def test_each_operation_starts_with_fresh_retries_and_backoff() -> None:
    policy = RetryPolicy(retries=1, max_delay_s=1.0)
    first = policy.begin(deadline=BUDGET_S)
    first.after(LOST, idempotent=True, now=0.0)
    assert first.after(LOST, idempotent=True, now=0.0).give_up is GiveUp.RETRIES_USED
    second = policy.begin(deadline=BUDGET_S)
    assert second.after(LOST, idempotent=True, now=0.0) == Decision(0.05)


# --- what the pool reports to the policy ---------------------------------------------------


def test_an_error_reply_in_place_of_a_result_counts_as_answered() -> None:
    loading = redis_errors.BusyLoadingError("LOADING Redis is loading", status_code="LOADING")
    assert failure_of(loading, sent=True, reused=False) == LOADING
    lost = redis_errors.ConnectionError("Connection closed by server.")
    assert failure_of(lost, sent=True, reused=False) == LOST
    assert failure_of(TimeoutError(), sent=False, reused=True) == STALE


def test_refused_credentials_and_untrusted_certificates_are_reported_as_refused() -> None:
    wrong_password = redis_errors.AuthenticationError("invalid username-password pair")
    assert failure_of(wrong_password, sent=False, reused=False).refused
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "certificate verify failed")
        except ssl.SSLError as exc:
            raise redis_errors.ConnectionError("Error connecting") from exc
    except redis_errors.ConnectionError as wrapped:
        assert failure_of(wrapped, sent=False, reused=False).refused
