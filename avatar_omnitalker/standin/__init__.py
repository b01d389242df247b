"""A stand-in OpenAvatarChat host, written from shared/docs/OPENAVATARCHAT.md.

The real host cannot be installed here, so tests (and `omnitalker converse`) run the handler
inside this one. It provides the `chat_engine` modules a handler imports and an engine that does
what the contract says the real one does: module discovery through handler_search_path, class
selection by sorted member names, config validation with concurrent_limit overridden, bundle
shape checks, one pump thread per handler and session, routing by type with ONCE semantics.
Where the contract says the real engine rejects something, this one rejects it too.

`chat_engine` is put on sys.path only by `standin.engine` (never installed top-level), so it
can never shadow a real OpenAvatarChat installation.
"""
