"""Build hook: the wheel ships the conformance guests, built from guests/conformance/ at build time.

`kvredis conformance` must work where componentize-py is not installed, so the guests are
compiled while the package is built (componentize-py is a build requirement) and packaged
as kvredis/conformance/guests/*.wasm. Editable installs skip this; `make guests` builds them
into the source tree instead.
"""

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
        # The guest builder is imported by name from scripts/, as the tests and bench.py do.
        sys.path.insert(0, str(ROOT / "scripts"))
        import guests  # noqa: PLC0415

        guests.build_conformance(Path(self.build_lib) / "kvredis" / "conformance" / "guests")


setup(cmdclass={"build_py": BuildWithGuests})
