from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SharedStates:
    active: bool = True
    enable_vad: bool = True


@dataclass
class SessionContext:
    session_id: str
    shared_states: SharedStates = field(default_factory=SharedStates)
