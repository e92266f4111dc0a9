"""`kvredis conformance`: the built-in conformance guests, run against a Redis deployment.

The guests are the ones the project's own tests run (built from guest_tests/conformance/);
the package ships them prebuilt, so no componentize-py is needed here.
"""

from kvredis.conformance.runner import CaseResult, guest_path, run_conformance, run_suite

__all__ = ["CaseResult", "guest_path", "run_conformance", "run_suite"]
