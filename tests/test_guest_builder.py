"""scripts/guests.py on a machine without the build tools: one line saying what to install."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_building_an_example_without_componentize_py_says_what_to_install() -> None:
    # -S: no site-packages, so neither componentize-py nor its metadata can be found.
    done = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "guests.py"), "example", "counter"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "guests: componentize-py is not installed; "
        "install it with: pip install 'componentize-py==0.25.1'"
    )
