"""`python -m harness.reliability`: see runner.py."""

from __future__ import annotations

import sys

from harness.reliability.runner import main

sys.exit(main())
