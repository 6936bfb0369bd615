"""Amazon's official API models and feed schemas, vendored verbatim (see README.md here).

The one copy in the repository: the product, the sandbox and the tests read these files.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict:
    """The parsed model `name` (e.g. "ordersV0.json"). Callers must not mutate it."""
    return json.loads((MODELS_DIR / name).read_text(encoding="utf-8"))
