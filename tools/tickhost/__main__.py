"""`python3 -m tickhost` (from tools/): the same command line as
tools/tickscope. It only hands over to cli; it must hold no logic."""
from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
