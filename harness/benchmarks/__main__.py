"""`python -m harness.benchmarks` (`make bench`): see cli.py and suite.py."""

from __future__ import annotations

import sys

from harness.benchmarks.cli import main

sys.exit(main())
