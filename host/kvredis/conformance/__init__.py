"""`kvredis conformance`: the built-in conformance guests, run against a Redis deployment.

The guests are the ones the project's own tests run (built from guest_tests/conformance/).
The wheel ships them prebuilt: setup.py compiles them with componentize-py (a build
requirement) while the wheel is built, so an installed kvredis needs no componentize-py.
A source checkout builds them with `make guests`.
"""

from kvredis.conformance.runner import CaseResult, guest_path, run_conformance, run_suite

__all__ = ["CaseResult", "guest_path", "run_conformance", "run_suite"]
