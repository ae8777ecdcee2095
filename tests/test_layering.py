"""The tree is the architecture: imports flow one way, with no cycles, and engine/ never imports streamlit.

Layers, lowest first (a module may import its own layer and the ones below, never one above):

    foundation   engine/core (errors, registry, inputs, arrays, notes, machine, config, artifacts), published
    data         engine/data
    models       engine/models
    vectors      engine/vectors
    recsys       engine/recsys
    lab          engine/lab
    service      engine/service (the facade, the search flow, build)
    cli          engine/cli, engine/__main__
    ui           ui/        (the Streamlit boundary: may import engine)
    views        views/     (pages: may import ui and engine)

Every import counts, also one inside a function (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("engine", "engine.core", "engine.published")),
    ("data", ("engine.data",)),
    ("models", ("engine.models",)),
    ("vectors", ("engine.vectors",)),
    ("recsys", ("engine.recsys",)),
    ("lab", ("engine.lab",)),
    ("service", ("engine.service",)),
    ("cli", ("engine.cli", "engine.__main__")),
    ("ui", ("ui",)),
    ("views", ("views",)),
)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """Index into LAYERS of the most specific prefix that holds ``module``; None if outside the tree."""
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                if p == "engine" and module != "engine":
                    continue  # the package itself is foundation; its sub-modules are placed by their own prefix
                best, best_len = i, len(p)
    return best


def sources() -> list[Path]:
    return sorted(p for d in ("engine", "ui", "views") for p in (ROOT / d).rglob("*.py"))


def imports_of(path: Path, module: str) -> set[str]:
    """Project modules ``path`` imports (absolute and relative, module level or inside functions)."""
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            # "from engine.recsys import hybrid" imports the module engine.recsys.hybrid
            out |= {f"{base}.{a.name}" for a in node.names}
    known = {module_name(p) for p in sources()}
    return {m for m in out if m in known and m != module}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p, module_name(p)) for p in sources()}


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in graph() if layer_of(m) is None)
    assert not missing, f"modules outside every layer (add them to LAYERS): {missing}"


def test_nothing_imports_upward() -> None:
    upward = []
    for mod, deps in graph().items():
        for dep in deps:
            if layer_of(dep) > layer_of(mod):
                upward.append(f"{mod} ({LAYERS[layer_of(mod)][0]}) imports {dep} ({LAYERS[layer_of(dep)][0]})")
    assert not upward, "\n".join(sorted(upward))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    g = graph()
    # a package's __init__ re-exporting its own modules is not a cycle of ideas
    g = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in g.items()}
    found = cycles(g)
    assert not found, f"import cycles: {found}"


def test_the_checker_catches_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """The rules above can fail: an upward edge and a two-module cycle are both reported."""
    assert layer_of("engine.data.catalogue") < layer_of("engine.recsys.query")
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    path = tmp_path / "x.py"
    path.write_text("from engine.recsys import query\n")
    assert "engine.recsys.query" in imports_of(path, "engine.data.x")


@pytest.mark.parametrize("folder", ["engine"])
def test_engine_sources_never_import_streamlit(folder: str) -> None:
    offenders = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert not offenders, offenders


def test_importing_engine_does_not_load_streamlit() -> None:
    code = ("import sys, pkgutil, importlib, engine\n"
            "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
            "    if m.name != 'engine.__main__': importlib.import_module(m.name)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=ENGINE.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_engine_has_no_top_level_modules() -> None:
    """Every engine module lives in a sub-package (the tree shows the layer); only the package
    marker and ``python -m engine``'s entry point sit at the top."""
    loose = sorted(p.name for p in ENGINE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert not loose, f"move these into a sub-package of engine/: {loose}"
