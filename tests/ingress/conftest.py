"""Shared helpers for the affinity-fallback tests: the controller model and manifest checks."""

from __future__ import annotations

import sys
from pathlib import Path

# Helper modules of this folder (``_ingress_support``) import by name under --import-mode=importlib.
sys.path.insert(0, str(Path(__file__).parent))
