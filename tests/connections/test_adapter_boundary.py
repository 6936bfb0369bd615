"""The Amazon adapter's edges, read from the source: only it imports sp_api, and
it reaches into nothing of ours but the store it is given and its rate limiter
(no service that writes a store's state, no other app)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "connections" / "amazon"
OURS = ("connections", "fulfillment", "mappings", "sandbox", "bench")
# What the adapter may import of ours besides itself.
ADAPTER_MAY_IMPORT = {"connections.models", "connections.ratelimit"}


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, relative imports resolved."""
    package = list(path.relative_to(ROOT).parts[:-1])  # a module's (or __init__'s) own package
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def test_only_the_adapter_imports_sp_api():
    outside = [
        str(path.relative_to(ROOT))
        for path in _python_files(*OURS)
        if ADAPTER not in path.parents
        and any(m == "sp_api" or m.startswith("sp_api.") for m in _imports(path))
    ]
    assert outside == []


def test_the_adapter_imports_nothing_of_ours_but_the_store_and_its_rate_limiter():
    reached = {
        (str(path.relative_to(ROOT)), module)
        for path in _python_files("connections/amazon")
        for module in _imports(path)
        if module.split(".")[0] in OURS
        and not module.startswith("connections.amazon")
        and not any(module == m or module.startswith(m + ".") for m in ADAPTER_MAY_IMPORT)
        and module not in {"connections"}  # `from .. import ratelimit` names the package first
    }
    assert reached == set()
    assert any("sp_api" in m for path in _python_files("connections/amazon") for m in _imports(path))
