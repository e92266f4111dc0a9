"""The conformance guest: the same app is built once per wasi:keyvalue version."""

import sys

import cases
import kv
import ops
from componentize_py_types import Err
from wit_world import exports


class Conformance(exports.Conformance):
    def cases(self):
        return cases.names()

    def run_case(self, name):
        passed, note = cases.run(name)
        if not passed:
            raise Err(note)
        return note


class Ops(exports.Ops):
    def call(self, bucket, op, args):
        return ops.call(bucket, op, args)


class Run(exports.Run):
    def run(self):
        wanted = sys.argv[1:]
        selected = [n for n in cases.names() if not wanted or any(w in n for w in wanted)]
        failed = 0
        for name in selected:
            passed, note = cases.run(name)
            failed += not passed
            print(f"{'PASS' if passed else 'FAIL'} {kv.VERSION} {name}: {note}")
        print(f"{len(selected) - failed} passed, {failed} failed")
        if failed:
            raise Err(None)
