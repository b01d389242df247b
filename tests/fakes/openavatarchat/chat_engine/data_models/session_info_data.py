"""Mirrors src/chat_engine/data_models/session_info_data.py (OpenAvatarChat b4e8d15)."""

import asyncio
import queue
from typing import Union

from pydantic import BaseModel, Field

IOQueueType = Union[queue.Queue, asyncio.Queue]


class SessionInfoData(BaseModel):
    session_id: str
    timestamp_base: int = Field(default=16000)
