"""Data flows one way: the import graph of the installed package has no upward edge and no cycle."""

from __future__ import annotations

from avatar_omnitalker import architecture


def test_no_subpackage_imports_upward_or_in_a_circle():
    edges = architecture.graph()
    assert set(edges) <= set(architecture.LAYERS), f"units without a layer: {set(edges) - set(architecture.LAYERS)}"
    assert architecture.violations(edges) == []


def test_the_checker_sees_an_upward_import_a_training_import_and_a_cycle():
    edges = {"model": {"infer"}, "infer": {"data"}, "text": {"audio"}, "audio": {"text"}}
    problems = "\n".join(architecture.violations(edges))
    assert "model (layer 2) imports infer (layer 3): upward" in problems
    assert "infer imports data" in problems
    assert "import cycle: audio -> text -> audio" in problems


def test_the_readme_shows_the_graph_of_the_code():
    import pytest

    from tests.test_packaging import source_root

    readme = source_root() / "README.md"
    if not readme.is_file():
        pytest.skip("no README beside the source tree")
    assert architecture.readme_block(architecture.graph()) in readme.read_text(encoding="utf-8"), (
        "README's import graph is stale: python -m avatar_omnitalker.architecture --readme README.md"
    )
