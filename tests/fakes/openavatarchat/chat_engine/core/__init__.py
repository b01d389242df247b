"""Fake of OpenAvatarChat src/chat_engine (main b4e8d15)."""
