"""Read a JSON document into a ModelProto, checking it against the protobuf schema.

This does what ``json_format.ParseDict`` does for the ONNX messages (which have no maps,
Any or well-known types), a few times faster, and every error names the exact path, e.g.
``onnx.graph.initializer[2].dims: expected a list of integers, got a string``.
json_format names fields inconsistently and accepts a list where an object belongs.
Field names may be json_format's camelCase or the proto names, as ParseDict allows.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from catalog.onnxdoc.errors import DocumentError

_INTEGER = re.compile(r"-?[0-9]+")


class _Bad(Exception):
    """A JSON value of the wrong type (turned into a DocumentError with its path)."""


def _to_int(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and _INTEGER.fullmatch(value):
        return int(value)
    if type(value) is float and math.isfinite(value) and value.is_integer():
        return int(value)
    raise _Bad


def _to_float(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return value
    if type(value) is str:
        try:
            return float(value)  # also "NaN", "Infinity", "-Infinity" as json_format writes
        except ValueError:
            pass
    raise _Bad


def _to_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _Bad


def _to_str(value: Any) -> str:
    if type(value) is str:
        return value
    raise _Bad


def _to_bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise _Bad
    try:  # what json_format writes: standard alphabet, padded (twice as fast)
        return binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:
        pass
    try:  # what json_format also reads: urlsafe or standard alphabet, padding optional
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _Bad from exc


_INTEGER_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOAT_TYPES = {FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE}


class _Field(NamedTuple):
    name: str  # the attribute name on the message
    number: int
    repeated: bool
    message: Descriptor | None
    convert: Callable[[Any], Any] | None  # scalars only
    singular: str  # "an integer", for messages
    plural: str  # "integers"
    oneof: str | None


def _scalar(field: FieldDescriptor) -> tuple[Callable[[Any], Any], str, str]:
    """Return (converter, singular description, plural description) for a scalar field."""
    if field.type in _INTEGER_TYPES:
        return _to_int, "an integer", "integers"
    if field.type in _FLOAT_TYPES:
        return _to_float, "a number", "numbers"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return _to_bool, "a boolean", "booleans"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _to_bytes, "a base64 string", "base64 strings"
    if field.type == FieldDescriptor.TYPE_ENUM:
        numbers = {v.name: v.number for v in field.enum_type.values}
        known = frozenset(numbers.values())

        def to_enum(value: Any) -> int:
            if type(value) is str and value in numbers:
                return numbers[value]
            if type(value) is int and value in known:
                return value
            raise _Bad

        names = ", ".join(numbers)
        return to_enum, f"one of {names}", f"{field.enum_type.name} names ({names})"
    return _to_str, "a string", "strings"


@cache
def _fields(descriptor: Descriptor) -> dict[str, _Field]:
    """Return the fields of a message by JSON name and by proto name."""
    fields = {}
    for field in descriptor.fields:
        if field.message_type is not None:
            convert, singular, plural = None, "an object", "objects"
        else:
            convert, singular, plural = _scalar(field)
        oneof = field.containing_oneof.name if field.containing_oneof is not None else None
        info = _Field(
            field.name,
            field.number,
            field.is_repeated,
            field.message_type,
            convert,
            singular,
            plural,
            oneof,
        )
        fields[field.name] = info
        fields[field.json_name] = info
    return fields


def kind(value: Any) -> str:
    """Return how a JSON value reads in an error message ("a string", "a list", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def parse(value: Any, message: Message, path: str) -> None:
    """Fill message from a JSON object; raise DocumentError naming the first bad field."""
    if type(value) is not dict:
        raise DocumentError(f"{path}: expected an object, got {kind(value)}")
    if not value:
        message.SetInParent()  # an empty object still marks the field present
        return
    fields = _fields(message.DESCRIPTOR)
    seen: set[int | str] = set()
    for key, item in value.items():
        field = fields.get(key)
        where = f"{path}.{key}"
        if field is None:
            raise DocumentError(f"{where}: {message.DESCRIPTOR.name} has no such field")
        if field.number in seen:
            raise DocumentError(f"{where}: the field is given twice")
        seen.add(field.number)
        if field.oneof is not None:
            if field.oneof in seen:
                raise DocumentError(f"{where}: a second field of the one-of {field.oneof!r}")
            seen.add(field.oneof)
        if field.repeated:
            _parse_repeated(item, message, field, where)
        elif field.message is not None:
            parse(item, getattr(message, field.name), where)
        else:
            try:
                setattr(message, field.name, field.convert(item))
            except (_Bad, ValueError, TypeError) as exc:
                raise DocumentError(
                    f"{where}: expected {field.singular}, got {_show(item)}"
                ) from exc


def _parse_repeated(item: Any, message: Message, field: _Field, where: str) -> None:
    if type(item) is not list:
        raise DocumentError(f"{where}: expected a list of {field.plural}, got {kind(item)}")
    container = getattr(message, field.name)
    if field.message is not None:
        for i, element in enumerate(item):
            parse(element, container.add(), f"{where}[{i}]")
        return
    convert = field.convert
    try:
        container.extend([convert(v) for v in item])
    except (_Bad, ValueError, TypeError):
        for i, element in enumerate(item):  # find the culprit for the message
            try:
                container.append(convert(element))
            except (_Bad, ValueError, TypeError) as exc:
                raise DocumentError(
                    f"{where}[{i}]: expected {field.singular}, got {_show(element)}"
                ) from exc
        raise


def _show(value: Any) -> str:
    """Return the kind of a bad value, with the value itself when it is short."""
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
        if len(text) <= 40:
            return f"{kind(value)} ({text})" if value is not None else "null"
    return kind(value)
