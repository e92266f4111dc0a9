"""`kvredis conformance`: the built-in conformance guests, run against a Redis deployment.

The guests are the ones the project's own tests run (built from guests/conformance/).
The wheel ships them prebuilt: setup.py compiles them with componentize-py (a build
requirement) while the wheel is built, so an installed kvredis needs no componentize-py.
A source checkout builds them with `make guests`.
"""

from kvredis.conformance.junit import CaseResult, write_junit
from kvredis.conformance.runner import (
    SuiteGuest,
    guest_path,
    guest_paths,
    run_conformance,
    run_suite,
    run_suites,
)

__all__ = [
    "CaseResult",
    "SuiteGuest",
    "guest_path",
    "guest_paths",
    "run_conformance",
    "run_suite",
    "run_suites",
    "write_junit",
]
