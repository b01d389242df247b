from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class HandlerBaseConfigModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    enabled: bool = Field(default=True)
    module: Optional[str] = Field(default=None)
    concurrent_limit: int = Field(default=1)


class ChatEngineConfigModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model_root: str = "models"
    concurrent_limit: int = 1
    handler_search_path: list[str] = Field(default_factory=list)
    handler_configs: dict[str, Any] = Field(default_factory=dict)
