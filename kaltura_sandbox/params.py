"""Request parameters: where they come from, how they nest, and how values are coerced.

Kaltura builds one parameter dictionary per request (reference §1.2-§1.4):

* the body: a JSON object when ``Content-Type`` is exactly ``application/json``; the ``json`` field
  of a multipart form (what the official clients send with files); otherwise ordinary form fields;
* uploaded files;
* the query string and ``/key/value`` path pairs, which override everything else.

Keys are split on ``:`` (``filter:freeText``) and PHP brackets (``filter[freeText]``) into nested
dictionaries. Inside objects a ``name__null`` key becomes ``name: None`` (the client's "set to
null"); a top-level ``name__null`` is dropped (the action argument is simply absent, as on the
server). A ``-`` key (``ids:-=``) means "explicitly empty array" and becomes ``[]``.

Values stay raw (strings, or whatever the JSON body held) until a handler coerces them with the
helpers below, which reproduce the server's casts (``KalturaRequestDeserializer::castSimpleType``):
integers and floats are cast like PHP's ``(int)``/``(float)``, booleans treat ``"false"`` (any case),
``"0"`` and ``""`` as false, enums are validated (``INVALID_ENUM_VALUE``), and ``time`` values within
ten years of zero are relative to now.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ApiError

#: ``max_relative_time`` of Kaltura's base.ini: |value| <= this is "relative to now".
MAX_RELATIVE_TIME = 315360000

_NUMERIC_PREFIX = re.compile(r"^[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")
_BRACKETS = re.compile(r"\[([^\]]*)\]")
# Characters XML 1.0 cannot carry; the server rejects them with INVALID_PARAMETER_CHAR.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------------------------------------
# Value coercion (module level: usable on values inside objects)
# ---------------------------------------------------------------------------------------------


def _scalar(value: Any, field: str, type_name: str) -> Any:
    """Reject nested objects where a scalar is expected."""
    if isinstance(value, (dict, list)):
        raise ApiError("PROPERTY_VALIDATION_WRONG_FORMAT", PROP_NAME=field, FORMAT=type_name)
    return value


def _php_number(value: Any) -> float:
    """The numeric value PHP's casts give a scalar: the leading number, or 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    match = _NUMERIC_PREFIX.match(str(value))
    if not match:
        return 0.0
    try:
        return float(match.group(1))
    except (OverflowError, ValueError):  # pragma: no cover - regex guarantees a float literal
        return 0.0


def coerce_int(value: Any, field: str) -> int | None:
    """Cast like PHP ``(int)``: ``"12"`` -> 12, ``"12abc"`` -> 12, ``"abc"`` -> 0; None stays None."""
    if value is None:
        return None
    number = _php_number(_scalar(value, field, "int"))
    if math.isnan(number) or math.isinf(number):
        return 0
    return int(number)


def coerce_float(value: Any, field: str) -> float | None:
    """Cast like PHP ``(float)``; None stays None."""
    if value is None:
        return None
    number = _php_number(_scalar(value, field, "float"))
    return 0.0 if math.isnan(number) else number


def coerce_bool(value: Any, field: str) -> bool | None:
    """Kaltura's bool cast: ``"false"`` in any case, ``"0"`` and ``""`` are false; None stays None."""
    if value is None:
        return None
    value = _scalar(value, field, "bool")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value)
    return not (text.lower() == "false" or text in ("", "0"))


def coerce_str(value: Any, field: str) -> str | None:
    """A string value; characters XML cannot carry give ``INVALID_PARAMETER_CHAR``."""
    if value is None:
        return None
    value = _scalar(value, field, "string")
    if isinstance(value, bool):
        text = "1" if value else ""
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    if _XML_INVALID.search(text):
        raise ApiError("INVALID_PARAMETER_CHAR", XML_FIELD=field)
    return text


def coerce_enum(value: Any, field: str, allowed: Iterable[int], enum_type: str) -> int | None:
    """An integer enum: ``"true"``/``"false"`` mean 1/0; anything else outside ``allowed`` fails."""
    if value is None:
        return None
    value = _scalar(value, field, enum_type)
    text = str(value).strip()
    if text.lower() == "true":
        text = "1"
    elif text.lower() == "false":
        text = "0"
    if isinstance(value, bool):
        text = "1" if value else "0"
    if re.fullmatch(r"[+-]?\d+", text) and int(text) in set(allowed):
        return int(text)
    raise ApiError("INVALID_ENUM_VALUE", ENUM_VAL=value, PARAM_NAME=field, ENUM_TYPE=enum_type)


def coerce_str_enum(value: Any, field: str, allowed: Iterable[str], enum_type: str) -> str | None:
    """A string enum (e.g. ``KalturaAppTokenHashType``): the value must be one of ``allowed``."""
    if value is None:
        return None
    text = coerce_str(value, field)
    if text in set(allowed):
        return text
    raise ApiError("INVALID_ENUM_VALUE", ENUM_VAL=text, PARAM_NAME=field, ENUM_TYPE=enum_type)


def coerce_time(value: Any, field: str, now: float) -> int | None:
    """A ``time`` value: unix seconds, or relative to ``now`` when within ten years of zero."""
    number = coerce_int(value, field)
    if number is None:
        return None
    if -MAX_RELATIVE_TIME <= number <= MAX_RELATIVE_TIME:
        return int(now) + number
    return number


def coerce_obj(value: Any, field: str, type_name: str = "object") -> dict:
    """A nested object parameter: ``{}`` when absent, ``PROPERTY_VALIDATION_WRONG_FORMAT`` if scalar."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    raise ApiError("PROPERTY_VALIDATION_WRONG_FORMAT", PROP_NAME=field, FORMAT=type_name)


def coerce_list(value: Any, field: str) -> list:
    """An array parameter (``x:0:...``, ``x:1:...`` or a JSON list), items in key order."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value[key] for key in sorted(value, key=_array_sort_key)]
    raise ApiError("PROPERTY_VALIDATION_WRONG_FORMAT", PROP_NAME=field, FORMAT="array")


def _array_sort_key(key: str) -> tuple[int, int | str]:
    """PHP ``ksort``-like ordering: numeric keys numerically, before other keys."""
    return (0, int(key)) if str(key).lstrip("-").isdigit() else (1, str(key))


DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 500


def pager_values(pager: Any) -> tuple[int, int]:
    """``(pageSize, pageIndex)`` of a ``KalturaFilterPager``: size 30 by default, clamped to
    [0, 500]; index 1-based, at least 1 (``KalturaFilterPager``/``KalturaPager``)."""
    pager = coerce_obj(pager, "pager", "KalturaFilterPager")
    size = coerce_int(pager.get("pageSize"), "pageSize")
    index = coerce_int(pager.get("pageIndex"), "pageIndex")
    size = DEFAULT_PAGE_SIZE if size is None else min(max(size, 0), MAX_PAGE_SIZE)
    index = 1 if index is None or index < 1 else index
    return size, index


# ---------------------------------------------------------------------------------------------
# Building the parameter tree
# ---------------------------------------------------------------------------------------------


def split_key(key: str) -> list[str]:
    """``"filter:freeText"`` and ``"filter[freeText]"`` -> ``["filter", "freeText"]``."""
    head, bracket, rest = key.partition("[")
    parts = head.split(":")
    if bracket:
        parts.extend(_BRACKETS.findall("[" + rest))
    return parts


def set_path(tree: dict, path: list[str], value: Any) -> None:
    """Store ``value`` at ``path`` like the server's ``setElementByPath``.

    Later values win; a scalar met on the way is replaced by a dictionary. A final ``-`` key
    (``ids:-=``) leaves an empty container behind: the "explicitly empty array" marker.
    """
    node = tree
    for index, key in enumerate(path):
        last = index == len(path) - 1
        if key == "-" and last:
            return
        if last:
            node[key] = value
            return
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]


def build_tree(pairs: Iterable[tuple[str, Any]]) -> dict:
    """Nest flat ``key=value`` pairs (later pairs override earlier ones)."""
    tree: dict = {}
    for key, value in pairs:
        set_path(tree, split_key(key), value)
    return tree


def merge(base: dict, override: Mapping) -> dict:
    """Recursive merge where ``override`` wins (PHP ``array_replace_recursive``)."""
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        elif isinstance(value, Mapping):
            base[key] = merge({}, value)
        else:
            base[key] = value
    return base


def apply_nulls(tree: Any, top_level: bool = True) -> Any:
    """Turn ``name__null`` keys into ``name: None`` in objects; drop them at the top level."""
    if isinstance(tree, list):
        return [apply_nulls(item, False) for item in tree]
    if not isinstance(tree, dict):
        return tree
    result: dict = {}
    for key, value in tree.items():
        if isinstance(key, str) and key.endswith("__null"):
            if not top_level:
                result.setdefault(key[: -len("__null")], None)
            continue
        result[key] = apply_nulls(value, False)
    return result


def json_tree(value: Any) -> Any:
    """A decoded JSON body as a parameter tree: keys become strings, and flat ``a:b`` keys nest
    like form keys; numbers and booleans stay as they are (the coercion helpers accept them like
    their string forms)."""
    if isinstance(value, list):
        return [json_tree(v) for v in value]
    if not isinstance(value, dict):
        return value
    tree: dict = {}
    for key, item in value.items():
        path = split_key(str(key))
        nested: Any = json_tree(item)
        for part in reversed(path[1:]):
            nested = {part: nested}
        merge(tree, {path[0]: nested})
    return tree


def path_pairs(path: str) -> list[tuple[str, str]]:
    """``/api_v3/service/media/action/list`` -> ``[("service","media"),("action","list")]``."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "api_v3":
        parts = parts[1:]
    if parts and parts[0] == "index.php":
        parts = parts[1:]
    return [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def parse_json_object(text: str) -> dict | None:
    """Decode a JSON object body; None when it is not ``{...}`` or not valid JSON."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        decoded = json.loads(stripped)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None
