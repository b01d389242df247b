"""Print, as JSON, the shape of every public class of the given chat_engine modules: enum members,
dataclass / pydantic fields with defaults, constructor and method signatures. Run once with the
fake engine and once with the real one on sys.path; test_fake_matches_real compares the two."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import json
import re
import sys


def _default(value) -> str:
    if value is dataclasses.MISSING or value is inspect.Parameter.empty:
        return "<required>"
    return repr(value)


def describe_class(cls: type) -> dict:
    if issubclass(cls, enum.Enum):
        return {"enum": {m.name: repr(m.value) for m in cls}}
    out: dict = {}
    if dataclasses.is_dataclass(cls):
        out["fields"] = {
            f.name: _default(f.default) if f.default_factory is dataclasses.MISSING else "<factory>"
            for f in dataclasses.fields(cls)
        }
    elif hasattr(cls, "model_fields"):
        out["fields"] = {
            n: "<factory>" if f.default_factory else _default(f.default if not f.is_required() else dataclasses.MISSING)
            for n, f in cls.model_fields.items()
        }
    init = vars(cls).get("__init__")
    if inspect.isfunction(init) and not dataclasses.is_dataclass(
        cls
    ):  # attributes a constructed object carries (e.g. SessionContext.session_info)
        out["attributes"] = sorted(set(re.findall(r"self\.([a-zA-Z]\w*)\s*(?::[^=\n]+)?=", inspect.getsource(init))))
    methods = {}
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
        if inspect.isfunction(func):
            methods[name] = [p for p in inspect.signature(func).parameters]
        elif isinstance(member, property):
            methods[name] = "property"
    out["methods"] = methods
    out["abstract"] = sorted(getattr(cls, "__abstractmethods__", ()))
    return out


def describe(module_name: str) -> dict:
    module = importlib.import_module(module_name)
    return {
        name: describe_class(obj)
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and obj.__module__ == module_name and not name.startswith("_")
    }


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    print(json.dumps({m: describe(m) for m in sys.argv[2:]}))
