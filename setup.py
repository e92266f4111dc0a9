"""Build hook: the wheel ships the conformance guests, built from guest_tests/ at build time.

`kvredis conformance` must work where componentize-py is not installed, so the guests are
compiled while the package is built (componentize-py is a build requirement) and packaged
as kvredis/conformance/guests/*.wasm. Editable installs skip this; `make guests` builds them
into the source tree instead.
"""

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithGuests(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        spec = importlib.util.spec_from_file_location("kvredis_guests", ROOT / "scripts/guests.py")
        assert spec is not None and spec.loader is not None
        guests = importlib.util.module_from_spec(spec)
        sys.modules["kvredis_guests"] = guests
        spec.loader.exec_module(guests)
        guests.build_conformance(Path(self.build_lib) / "kvredis" / "conformance" / "guests")


setup(cmdclass={"build_py": BuildWithGuests})
