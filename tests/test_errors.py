"""Every error the core raises survives pickle: the import worker sends its errors to the
parent process pickled, and an error that cannot be rebuilt there would reach the user as a
traceback instead of one clear line."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

import leadcli
from leadcli.errors import InvalidValue, LeadcliError


def _all_error_classes() -> list[type[LeadcliError]]:
    """LeadcliError and every subclass defined anywhere in the package (imported first, so
    that subclasses in readers.py and the like are found too)."""
    for module in pkgutil.walk_packages(leadcli.__path__, "leadcli."):
        if ".cli" not in module.name and module.name != "leadcli.__main__":
            importlib.import_module(module.name)
    found, todo = [], [LeadcliError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _instance(cls: type[LeadcliError]) -> LeadcliError:
    """An instance built through the class's own signature, hint included where it takes one."""
    params = inspect.signature(cls.__init__).parameters.values()
    args = [
        f"{p.name}-value"
        for p in params
        if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty
    ]
    kwargs = {"hint": "do this"} if "hint" in inspect.signature(cls.__init__).parameters else {}
    return cls(*args, **kwargs)


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: c.__qualname__)
def test_every_error_survives_pickle(cls: type[LeadcliError]) -> None:
    error = _instance(cls)
    back = pickle.loads(pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(back) is cls
    assert str(back) == str(error)
    assert back.hint == error.hint
    assert back.__dict__ == error.__dict__


def test_invalid_value_keeps_its_field_and_reason() -> None:
    back = pickle.loads(pickle.dumps(InvalidValue("email", "not an address", hint="fix it")))
    assert (back.field, back.reason, back.hint, str(back)) == (
        "email",
        "not an address",
        "fix it",
        "email: not an address",
    )
