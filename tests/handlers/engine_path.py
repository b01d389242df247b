"""Put an OpenAvatarChat engine core and this repository's handlers/ on sys.path.

`OAC_SRC=/path/to/OpenAvatarChat/src`: the real engine (its `src/` and `src/handlers`, as the
host's launcher puts them). Otherwise the fake in tests/fakes/openavatarchat, which mirrors the
real one at main b4e8d15. Used by the handler tests' conftest and by benchmarks/handler_sessions.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
HANDLERS = TESTS.parent / "handlers"
FAKE = TESTS / "fakes" / "openavatarchat"


def use_engine() -> Path:
    """Returns the engine's root on sys.path."""
    oac_src = os.environ.get("OAC_SRC")
    if oac_src:
        root = Path(oac_src).resolve()
        if not (root / "chat_engine" / "core" / "chat_session.py").is_file():
            raise RuntimeError(
                f"OAC_SRC={oac_src} is not an OpenAvatarChat src/ folder (no chat_engine/core/chat_session.py)"
            )
        paths = [str(root), str(root / "handlers")]
    else:
        root = FAKE
        paths = [str(FAKE)]
    for path in reversed(paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    if str(HANDLERS) not in sys.path:
        sys.path.append(str(HANDLERS))
    return root
