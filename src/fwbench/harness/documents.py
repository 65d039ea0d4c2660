"""The one way fwbench reads, validates and writes the JSON documents it owns.

Results and calibration files, the claims records stored in them, the experiments'
evidence and the advice document are pydantic dataclasses (or plain dataclasses pydantic
reads through a :class:`~pydantic.TypeAdapter`), validated by one configuration,
:data:`RECORD`:

* strict: ``"3"`` is refused where a number is expected, ``1`` where a flag is;
* closed: a field the class does not declare is an error (a typo, or another format);
* finite: NaN and infinity are refused, since JSON cannot hold them;
* documented: each field's docstring becomes its description in the generated JSON Schema
  (``python -m fwbench.schemas`` writes the committed schemas).

Derived values (summaries, validity) are ``@computed_field`` properties: written to the
file for its outside readers, recomputed from the raw values when it is read
(:class:`Derived` drops the stored copies), so a summary never disagrees with its data.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, TypeVar, get_args

from pydantic import (
    ConfigDict,
    GetCoreSchemaHandler,
    JsonValue,
    Strict,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.dataclasses import is_pydantic_dataclass
from pydantic_core import ErrorDetails, core_schema

from fwbench.harness.errors import FwbenchError

#: The configuration of every record class of a JSON document fwbench owns.
RECORD: Final = ConfigDict(
    strict=True,
    extra="forbid",
    allow_inf_nan=False,
    use_attribute_docstrings=True,
    # The schema describes what fwbench writes: every field, defaults included, is there.
    json_schema_serialization_defaults_required=True,
)

#: A JSON value as ``json.loads`` returns it (pydantic validates it as such).
Json = JsonValue

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

#: An immutable sequence field: a JSON array, read strictly item by item. The tuple itself
#: is lax because :class:`Derived` hands a record's fields on as Python lists.
Items = Annotated[tuple[T, ...], Strict(False)]
#: A fixed-length row (e.g. ``[framework, server]``): a JSON array, lax for the same reason.
Row = Annotated[T, Strict(False)]


class _ReadOnly:
    """Metadata of :data:`FrozenMap`: validated as a dict of its key and value types, held
    as a read-only view (a plain dict would let a caller mutate a frozen record), written
    and described as that dict."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        key, value = get_args(source)
        as_dict = handler.generate_schema(dict[key, value])  # type: ignore[valid-type]
        return core_schema.no_info_after_validator_function(
            lambda mapping: MappingProxyType(dict(mapping)),
            handler(source),
            serialization=core_schema.plain_serializer_function_ser_schema(
                dict, return_schema=as_dict
            ),
        )


#: A read-only mapping field, written as a JSON object.
FrozenMap = Annotated[Mapping[K, V], _ReadOnly()]

#: A JSON object key that stands for an integer (e.g. an HTTP status): lax, since a key
#: is always a string in JSON, and :class:`Derived` hands it on as a Python string.
IntKey = Annotated[int, Strict(False)]


class Derived:
    """Base of a record with computed fields: their stored copies are dropped on read, and
    recomputed from the raw values."""

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        computed = cls.__pydantic_decorators__.computed_fields  # type: ignore[attr-defined]
        derived = {item.info.alias or name for name, item in computed.items()}
        return {key: value for key, value in data.items() if key not in derived}


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(kind: Any) -> TypeAdapter[Any]:
    """The pydantic adapter of a record type, built once (a plain dataclass's costs a
    schema build)."""
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def dump(value: object) -> Json:
    """``value`` (a record, or a tuple, mapping or scalar of records) as JSON values."""
    data: Json = adapter(type(value)).dump_python(value, mode="json", by_alias=True)
    return data


def load(kind: type[T], data: object) -> T:
    """Validate JSON values (as :func:`dump` or ``json.loads`` made them) as a ``kind``,
    with the rules of a JSON document: an array is a tuple, an object a record.

    Raises:
        pydantic.ValidationError: ``data`` does not fit ``kind``; :func:`problem` words it.
        ValueError: ``data`` holds NaN or infinity, which JSON cannot.
    """
    # The JSON text, not the Python values, is validated: strict Python validation would
    # refuse a list for a tuple; strict JSON validation reads an array as one. A record
    # class is strict by its RECORD configuration (forcing strictness here would also
    # make its Items refuse the lists Derived hands on); a plain dataclass (an
    # experiment's evidence) has no configuration of its own, so the call makes it strict.
    strict = None if is_pydantic_dataclass(kind) else True
    loaded: T = adapter(kind).validate_json(json.dumps(data, allow_nan=False), strict=strict)
    return loaded


def _location(where: str, loc: tuple[int | str, ...]) -> str:
    """A field's path as a reader writes it: ``run.json.points[1].repeats[0].requests``."""
    return where + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def problem(error: ValidationError, where: str) -> str:
    """The first problem of a validation error as one sentence naming the field's path."""
    errors = error.errors(include_url=False)
    first = errors[0]
    text = _describe(first, _location(where, first["loc"]))
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return text


def _describe(error: ErrorDetails, path: str) -> str:
    if error["type"] == "missing":
        return f"{path} is missing"
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{path} is not a field of this format"
    if error["type"] == "value_error":
        return f"{path}: {error['ctx']['error']}"
    message = error["msg"][0].lower() + error["msg"][1:]
    return f"{path}: {message}, not {error['input']!r}"


def write_json(path: Path, data: Json) -> None:
    """Write ``data`` to ``path`` atomically and durably, creating missing directories.

    The text goes to a temporary file beside ``path``, which is flushed to the disk before
    it is renamed over ``path``, and the directory is flushed after the rename: a crash of
    fwbench or of the machine leaves the previous version or the new one, never a truncated
    file (without the first flush, a file system may persist the rename before the data).
    A failed write (a full disk, Ctrl-C) removes the temporary file and re-raises.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_json(path: Path, error: type[FwbenchError], expected: str) -> Json:
    """The JSON values in ``path``.

    Args:
        path: the file.
        error: the error class to raise.
        expected: what the user should pass instead, e.g. "a file written by `fwbench run`".
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as failure:
        raise error(
            f"cannot read {path}: {failure.strerror}", "check the path and its permissions"
        ) from None
    try:
        data: Json = json.loads(text)
    except json.JSONDecodeError as failure:
        raise error(
            f"{path} is not JSON ({failure.msg} at line {failure.lineno})", f"pass {expected}"
        ) from None
    return data
