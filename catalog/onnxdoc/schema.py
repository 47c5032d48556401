"""Check a JSON document against the ModelProto schema before json_format parses it.

json_format's own errors name the field inconsistently (and it accepts a list where
an object belongs), so a stored document is walked along the protobuf descriptors
first: every error names the exact path, e.g.
``onnx.graph.initializer[2].dims: expected a list of integers, got a string``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from catalog.onnxdoc.errors import DocumentError

_INTEGER = re.compile(r"-?[0-9]+")
_FLOAT_WORDS = frozenset({"NaN", "Infinity", "-Infinity"})


def _is_int(value: Any) -> bool:
    if type(value) is int:
        return True
    if type(value) is float:
        return math.isfinite(value) and value.is_integer()
    return type(value) is str and _INTEGER.fullmatch(value) is not None


def _is_float(value: Any) -> bool:
    if type(value) in (int, float):
        return True
    if type(value) is not str:
        return False
    if value in _FLOAT_WORDS:
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_str(value: Any) -> bool:
    return type(value) is str


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

Check = Callable[[Any], bool]


@cache
def _scalar_check(field: FieldDescriptor) -> tuple[Check, str, str]:
    """Return (check, singular description, plural description) for a scalar field."""
    if field.type in _INTEGER_TYPES:
        return _is_int, "an integer", "integers"
    if field.type in _FLOAT_TYPES:
        return _is_float, "a number", "numbers"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return _is_bool, "a boolean", "booleans"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _is_str, "a base64 string", "base64 strings"
    if field.type == FieldDescriptor.TYPE_ENUM:
        names = frozenset(field.enum_type.values_by_name)

        def is_enum(value: Any) -> bool:
            return type(value) is int or (type(value) is str and value in names)

        return is_enum, f"one of {', '.join(sorted(names))}", f"{field.enum_type.name} names"
    return _is_str, "a string", "strings"


@cache
def _fields(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    """Return the fields of a message by JSON name and by proto name (json_format takes both)."""
    fields = {}
    for field in descriptor.fields:
        fields[field.name] = field
        fields[field.json_name] = field
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


def validate(value: Any, descriptor: Descriptor, path: str) -> None:
    """Raise DocumentError naming the first field of value that does not fit descriptor."""
    if not isinstance(value, dict):
        raise DocumentError(f"{path}: expected an object, got {kind(value)}")
    fields = _fields(descriptor)
    for key, item in value.items():
        field = fields.get(key)
        where = f"{path}.{key}"
        if field is None:
            raise DocumentError(f"{where}: {descriptor.name} has no such field")
        message = field.message_type
        if field.is_repeated:
            if not isinstance(item, list):
                what = "objects" if message is not None else _scalar_check(field)[2]
                raise DocumentError(f"{where}: expected a list of {what}, got {kind(item)}")
            if message is not None:
                for i, element in enumerate(item):
                    validate(element, message, f"{where}[{i}]")
                continue
            check, singular, _ = _scalar_check(field)
            if not all(map(check, item)):
                i, bad = next((i, v) for i, v in enumerate(item) if not check(v))
                raise DocumentError(f"{where}[{i}]: expected {singular}, got {kind(bad)}")
        elif message is not None:
            validate(item, message, where)
        else:
            check, singular, _ = _scalar_check(field)
            if not check(item):
                raise DocumentError(f"{where}: expected {singular}, got {kind(item)}")
