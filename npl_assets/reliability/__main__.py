"""`python -m npl_assets.reliability`: see runner.py."""

from __future__ import annotations

import sys

from npl_assets.reliability.runner import main

sys.exit(main())
