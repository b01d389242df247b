"""Which OpenAvatarChat engine the handler tests run in.

`OAC_SRC=/path/to/OpenAvatarChat/src`: the real engine core (its `src/` and `src/handlers` go on
sys.path, as the host's launcher puts them). Otherwise the fake in tests/fakes/openavatarchat,
which mirrors the real one at main b4e8d15. Either way the repository's `handlers/` folder is a
handler search path, exactly as a user's config names it.
"""

from __future__ import annotations

from tests.handlers.engine_path import use_engine

use_engine()
