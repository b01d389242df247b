"""The wheel is the product: it must hold every module, vocab, preset and asset of the source tree.

`.ci/run` builds the wheel, installs it into a fresh environment and runs these tests from a copy
of tests/ (so the checkout cannot shadow the installed package); it passes the wheel and the source
tree as OMNITALKER_WHEEL and OMNITALKER_SOURCE. Run from a checkout, the test builds the wheel itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import avatar_omnitalker


def source_root() -> Path:
    root = Path(os.environ.get("OMNITALKER_SOURCE", Path(__file__).resolve().parents[1]))
    if not (root / "setup.cfg").is_file() or not (root / "avatar_omnitalker").is_dir():
        pytest.skip(f"no source tree at {root} (set OMNITALKER_SOURCE)")
    return root


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    given = os.environ.get("OMNITALKER_WHEEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(source_root()),
        ],
        check=True,
    )
    (built,) = out.glob("avatar_omnitalker-*.whl")
    return built


def shipped_files(root: Path) -> set[str]:
    """Everything under the package that is not a build or cache artefact."""
    package = root / "avatar_omnitalker"
    return {
        p.relative_to(root).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }


def test_every_source_file_is_in_the_wheel(wheel):
    root = source_root()
    tracked = subprocess.run(["git", "ls-files", "avatar_omnitalker"], cwd=root, capture_output=True, text=True)
    expected = set(tracked.stdout.split()) if tracked.returncode == 0 and tracked.stdout else shipped_files(root)
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(expected - names)
    assert not missing, f"{len(missing)} files of the source tree are not in {wheel.name}: {missing[:10]}"


def test_every_folder_with_modules_is_a_regular_package():
    package = source_root() / "avatar_omnitalker"
    folders = {p.parent for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    assert not [str(f) for f in folders if not (f / "__init__.py").is_file()]


def test_the_wheel_declares_the_cli(wheel):
    with zipfile.ZipFile(wheel) as z:
        entry_points = next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert "omnitalker = avatar_omnitalker.cli:main" in z.read(entry_points).decode()


@pytest.mark.skipif(not os.environ.get("OMNITALKER_SOURCE"), reason="only when testing an installed wheel (.ci/run)")
def test_the_package_under_test_is_the_installed_one():
    installed = Path(avatar_omnitalker.__file__).resolve()
    assert source_root().resolve() not in installed.parents, f"tests import the checkout ({installed}), not the wheel"
