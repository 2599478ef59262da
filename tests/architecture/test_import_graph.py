"""Imports run one way: every package imports only the packages the architecture allows
(`docs/architecture.md`, "Packages and what each may import"), so there is no package
cycle. A new back-edge fails here with the file that adds it.

Imports under `if TYPE_CHECKING:` are not counted: they name a type for the checker and
are never executed (the stages annotate with the project file's `Project`)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import unitecon

ROOT = Path(unitecon.__file__).parent
STAGES = {"ledger", "ingest", "pricing", "attribution", "economics", "governance", "models"}
BASE = {"errors", "engine", "yamlfile"}

#: Package (or top-level module) -> what it may import besides itself.
RULES: dict[str, set[str]] = {
    "errors": set(),
    "yamlfile": {"errors"},
    "engine": {"errors"},
    "ledger": {"errors", "engine"},
    "ingest": BASE | {"ledger"},
    "pricing": BASE | {"ledger"},
    "attribution": BASE | {"ledger", "pricing"},
    "models": BASE,
    "economics": BASE | {"ledger", "pricing", "attribution", "models"},
    "governance": BASE | {"ledger", "pricing", "attribution"},
    "billing": BASE | {"ledger"},
    "config": BASE | {"ledger", "pricing", "attribution", "economics", "governance", "billing"},
    "demo": BASE | {"ledger", "ingest"},
    "analysis": BASE | STAGES | {"config"},
    "reconcile": BASE | STAGES | {"config", "analysis", "billing"},
    "terminal": set(),
    "report": BASE | STAGES | {"config", "analysis", "terminal", "billing", "reconcile"},
    "pipeline": BASE
    | STAGES
    | {"config", "analysis", "demo", "report", "terminal", "billing", "reconcile"},
    "server": BASE | STAGES | {"config", "analysis", "billing", "reconcile"},
    "cli": BASE
    | STAGES
    | {
        "config",
        "analysis",
        "demo",
        "report",
        "server",
        "pipeline",
        "terminal",
        "billing",
        "reconcile",
    },
}


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    return rel[0].removesuffix(".py")


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports() -> dict[tuple[str, str], list[str]]:
    """(package, imported package) -> where, for every runtime import inside unitecon."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in ROOT.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == ROOT:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        pkg = _package(path)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "unitecon":
                    names = [a.name for a in node.names]
                elif node.module.startswith("unitecon."):
                    names = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names if a.name.startswith("unitecon.")]
            if not names or node.lineno in skip:
                continue
            for target in names:
                if target != pkg and target != "__version__":
                    found[(pkg, target)].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_package_has_a_rule() -> None:
    packages = {_package(p) for p in ROOT.rglob("*.py") if p != ROOT / "__init__.py"}
    assert packages <= set(RULES), sorted(packages - set(RULES))


def test_imports_follow_the_rules() -> None:
    bad = [
        f"{pkg} -> {target} ({', '.join(where[:3])})"
        for (pkg, target), where in sorted(imports().items())
        if target not in RULES.get(pkg, set())
    ]
    assert not bad, "imports against docs/architecture.md:\n" + "\n".join(bad)


def test_no_package_cycle() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for pkg, target in imports():
        edges[pkg].add(target)

    def reaches(a: str, b: str, seen: set[str]) -> bool:
        if a == b:
            return True
        seen.add(a)
        return any(reaches(n, b, seen) for n in sorted(edges.get(a, ())) if n not in seen)

    pairs = [(a, b) for a in list(edges) for b in sorted(edges[a])]
    cycles = sorted({tuple(sorted(p)) for p in pairs if reaches(p[1], p[0], set())})
    assert not cycles, cycles


def test_the_rules_are_the_documented_ones() -> None:
    doc = (ROOT.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    for pkg, allowed in RULES.items():
        row = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{pkg}`")), None)
        assert row is not None, f"docs/architecture.md has no row for `{pkg}`"
        cell = row.rstrip("|").split("|")[-1]
        documented = {w.strip(" `") for w in cell.split(",") if w.strip(" `—")}
        assert documented == allowed, (pkg, sorted(documented ^ allowed))
