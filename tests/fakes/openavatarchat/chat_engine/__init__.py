"""Fake of OpenAvatarChat `src/chat_engine` (main b4e8d15): see ../README.md."""
