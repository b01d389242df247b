"""Mirrors src/chat_engine/contexts/handler_context.py (OpenAvatarChat b4e8d15)."""

from loguru import logger


class HandlerContext:
    def __init__(self, session_id: str):
        self.session_id = session_id
        self.owner = None
        self.data_submitter = None

    def submit_data(self, data):
        if self.data_submitter is None:
            logger.error("Session is not started, data submitter not ready.")
            return
        self.data_submitter.submit(data)
