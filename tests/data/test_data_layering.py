"""engine/data sits low in the stack: it imports only the modules below it and other data modules,
never models, vectors, recsys, lab, service, cli or ui (else a cycle or an upward import)."""

from __future__ import annotations

import ast
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "engine" / "data"
#: what engine/data may import from the engine: the modules below it, and itself
ALLOWED = {"engine.errors", "engine.registry", "engine.inputs", "engine.config", "engine.artifacts",
           "engine.machine", "engine.published", "engine.data"}


def _engine_imports(path: Path) -> list[str]:
    """Every ``engine.*`` module a file imports, at any depth (lazy imports inside functions too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            if node.module == "engine":  # `from engine import config`
                out += [f"engine.{a.name}" for a in node.names]
    return [m for m in out if m == "engine" or m.startswith("engine.")]


def _allowed(module: str) -> bool:
    return module == "engine" or any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_data_imports_only_lower_layers():
    offenders = [f"{p.relative_to(DATA.parent.parent)}: {m}" for p in sorted(DATA.rglob("*.py"))
                 for m in _engine_imports(p) if not _allowed(m)]
    assert not offenders, offenders


def test_the_check_sees_an_upward_import(tmp_path):
    # the check itself can fail: an upward import in a file is reported
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from engine.recsys.query import clean_query\n")
    assert [m for m in _engine_imports(bad) if not _allowed(m)] == ["engine.recsys.query"]
