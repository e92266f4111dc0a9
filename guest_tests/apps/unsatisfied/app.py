"""Imports `kvredis:guests/elsewhere`, which no host provides: kvredis must refuse to run it."""

from wit_world import exports
from wit_world.imports import elsewhere


class Run(exports.Run):
    def run(self):
        print(elsewhere.lookup("anything"))
