"""The package's layers and the import graph between its subpackages, read from the code.

Data flows one way: spec ─► text/audio/motion ─► model ─► infer ─► render/realtime ─► cli.
data/train/eval/video sit beside infer (they may use it; infer never uses them). A module may
import from its own layer or below, never above, and subpackages never import each other in a
circle. `python -m avatar_omnitalker.architecture [--readme README.md]` prints the graph (and
writes it into the README); tests/test_architecture.py fails on any edge that breaks these rules
and when the README's copy is stale.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

LAYERS: dict[str, int] = {
    "spec": 0,
    "fileio": 0,
    "errors": 0,
    "text": 1,
    "audio": 1,
    "motion": 1,
    "model": 2,
    "infer": 3,
    "data": 3,
    "train": 3,
    "eval": 3,
    "video": 3,
    "render": 4,
    "realtime": 4,
    "bench": 5,
    "cli": 5,
    "ship": 5,
    "architecture": 5,
}
TRAINING_SIDE = ("data", "train", "eval", "video")  # beside infer: infer must not import them
ROOT = Path(__file__).resolve().parent


def unit_of(module: str) -> str | None:
    """'avatar_omnitalker.infer.pipeline' -> 'infer'; the top-level package itself -> None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "avatar_omnitalker" and len(parts) > 1 else None


def imports(path: Path, package: str) -> set[str]:
    """Absolute names of the avatar_omnitalker modules a file imports (top level or in functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {name for name in found if unit_of(name) in LAYERS}


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """unit -> units it imports (edges within a unit left out)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        unit = unit_of(module)
        if unit is None:
            continue
        package = module if rel.name == "__init__" else module.rsplit(".", 1)[0]
        for name in imports(path, package):
            target = unit_of(name)
            if target != unit:
                edges[unit].add(target)
        edges.setdefault(unit, set())
    return dict(edges)


def violations(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for unit, targets in sorted(edges.items()):
        if unit not in LAYERS:
            problems.append(f"{unit}: not in LAYERS (give it a layer)")
            continue
        for target in sorted(targets):
            if LAYERS[target] > LAYERS[unit]:
                problems.append(f"{unit} (layer {LAYERS[unit]}) imports {target} (layer {LAYERS[target]}): upward")
            elif unit == "infer" and target in TRAINING_SIDE:
                problems.append(f"infer imports {target}: the training side sits beside infer, never below it")
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(edges)]
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def render(edges: dict[str, set[str]]) -> str:
    """The graph by layer, one line per unit: `unit ─► what it imports`."""
    lines = []
    for layer in sorted(set(LAYERS.values())):
        for unit in sorted(u for u in edges if LAYERS.get(u) == layer):
            targets = sorted(edges[unit], key=lambda t: (-LAYERS[t], t))
            lines.append(f"{layer}  {unit:<12} ─► {', '.join(targets) if targets else '(nothing)'}")
    return "\n".join(lines)


README_START, README_END = "<!-- import-graph:start -->", "<!-- import-graph:end -->"


def readme_block(edges: dict[str, set[str]]) -> str:
    return f"{README_START}\n```\n{render(edges)}\n```\n{README_END}"


def update_readme(path: Path, edges: dict[str, set[str]]) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    path.write_text(text[:start] + readme_block(edges) + text[end:], encoding="utf-8")


if __name__ == "__main__":  # print the graph; `--readme README.md` rewrites the README's copy of it
    import sys

    edges = graph()
    print(render(edges))
    for problem in violations(edges):
        print("VIOLATION:", problem)
    if len(sys.argv) == 3 and sys.argv[1] == "--readme":
        update_readme(Path(sys.argv[2]), edges)
