"""Round-trip frozen dataclasses of measurements through plain JSON values.

Each experiment records its evidence as small frozen dataclasses of numbers and strings;
the results file stores them as JSON and a later reader (``fwbench report``, a re-judging
of old results) rebuilds the same objects. One generic converter, driven by the type
hints, keeps every evidence class free of hand-written ``to_json``/``from_json`` pairs.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar, cast

T = TypeVar("T")

#: A JSON value as ``json.loads`` returns it.
Json = dict[str, Any] | list[Any] | str | int | float | bool | None


def to_json(value: object) -> Json:
    """Convert a dataclass (or a tuple, mapping, enum or scalar inside one) to JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return cast(Json, value.value)
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a results file")


def from_json(cls: type[T], data: Json) -> T:
    """Rebuild an instance of dataclass ``cls`` from what :func:`to_json` produced.

    Raises ``ValueError`` naming the field when ``data`` does not fit the class."""
    return cast(T, _convert(cls, data, cls.__name__))


def _convert(hint: Any, data: Any, where: str) -> Any:
    if hint is Any:
        # A field typed ``Any`` (inside :data:`Json`) holds JSON values as they are stored.
        return data
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, data, where)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError("; ".join(errors))
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], item, f"{where}[{i}]") for i, item in enumerate(data))
        if len(args) != len(data):
            raise ValueError(f"{where}: expected {len(args)} items, got {len(data)}")
        return tuple(
            _convert(arg, item, f"{where}[{i}]")
            for i, (arg, item) in enumerate(zip(args, data, strict=True))
        )
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
        return [_convert(item_hint, item, f"{where}[{i}]") for i, item in enumerate(data)]
    if origin is dict:
        _, value_hint = typing.get_args(hint)
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        return {key: _convert(value_hint, item, f"{where}.{key}") for key, item in data.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        hints = typing.get_type_hints(hint)
        values = {}
        for field in dataclasses.fields(hint):
            if field.name not in data:
                raise ValueError(f"{where}: missing field {field.name!r}")
            values[field.name] = _convert(
                hints[field.name], data[field.name], f"{where}.{field.name}"
            )
        return hint(**values)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(data)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    if hint is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if hint in (int, str, bool) and type(data) is hint:
        return data
    if hint is type(None) and data is None:
        return None
    raise ValueError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {data!r}")
