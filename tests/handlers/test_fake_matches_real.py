"""The fake engine in tests/fakes/openavatarchat against the real OpenAvatarChat source.

Skipped unless OAC_SRC names a real checkout's src/. Every class the fake offers must exist in the
real module of the same path with the same enum members, the same fields and defaults, the same
constructor and the same method signatures; where the fake leaves a real method out, that is
fine (the handler does not touch it), but nothing the fake has may differ from the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "openavatarchat"
DESCRIBE = Path(__file__).with_name("describe_engine.py")
OAC_SRC = os.environ.get("OAC_SRC")
V06 = bool(OAC_SRC) and (Path(OAC_SRC) / "chat_engine" / "data_models" / "chat_stream_config.py").is_file()
pytestmark = [
    pytest.mark.skipif(not OAC_SRC, reason="set OAC_SRC to an OpenAvatarChat checkout's src/ to compare"),
    pytest.mark.skipif(V06, reason="the fake mirrors the 0.5.1 line; OAC_SRC is a v0.6-line engine"),
]

MODULES = sorted(
    ".".join(p.relative_to(FAKE).with_suffix("").parts)
    for p in (FAKE / "chat_engine").rglob("*.py")
    if p.name != "__init__.py"
)


def describe(root: str | Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(DESCRIBE), str(root), *MODULES],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def both():
    return describe(FAKE), describe(OAC_SRC)


@pytest.mark.parametrize("module", MODULES)
def test_fake_module_mirrors_the_real_one(both, module):
    fake, real = both[0][module], both[1][module]
    for name, shape in fake.items():
        assert name in real, f"{module}.{name} does not exist in the real engine"
        real_shape = real[name]
        for key in ("enum", "fields", "abstract"):
            assert shape.get(key) == real_shape.get(key), f"{module}.{name}: {key} differs"
        missing = set(shape.get("attributes", [])) - set(real_shape.get("attributes", []))
        assert not missing, f"{module}.{name} objects have {missing}; the real ones do not"
        for method, params in shape.get("methods", {}).items():
            assert real_shape.get("methods", {}).get(method) == params, f"{module}.{name}.{method} differs"
