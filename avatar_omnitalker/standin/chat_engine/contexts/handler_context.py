from __future__ import annotations

from typing import Any, Callable


class HandlerContext:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.owner: str | None = None
        self.data_submitter: Callable[..., None] | None = None

    def submit_data(self, data: Any, finish_stream: bool | None = None) -> None:
        if self.data_submitter is None:
            raise RuntimeError("submit_data before start_context: the engine has not set data_submitter yet")
        self.data_submitter(data, finish_stream)
