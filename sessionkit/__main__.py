from __future__ import annotations

import sys

from sessionkit.cli import main

sys.exit(main())
