"""Write quick-mode copies of every notebook for nbval (used by ``make test``)."""

from __future__ import annotations

import sys
from pathlib import Path

from fer_utils.runs.notebooks import prepare_quick_copies

if __name__ == "__main__":
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/nbval")
    for path in prepare_quick_copies(dest):
        print(f"prepared {path}")
