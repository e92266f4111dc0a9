"""`python -m kvredis.cli`, the same as the `kvredis` command."""

import sys

from kvredis.cli import main

sys.exit(main())
