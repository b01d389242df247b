"""The host config we ship validates with the handler's config model, as the engine validates it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CONFIG = Path(__file__).resolve().parents[2] / "config" / "chat_with_omnitalker.yaml"


@pytest.mark.skipif(not CONFIG.is_file(), reason="config/ is not beside the tests")
def test_shipped_host_config_validates():
    from omnitalker_avatar.omnitalker_handler import OmniTalkerConfig

    raw = yaml.safe_load(CONFIG.read_text())["default"]["chat_engine"]["handler_configs"]["OmniTalker"]
    config = OmniTalkerConfig.model_validate(raw)
    assert config.module == "omnitalker_avatar/omnitalker_handler" and config.device == "auto"
