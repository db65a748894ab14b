"""Response rendering: JSON (``format=1``) and XML (``format=2``, the default), reference §1.7-§1.10.

Handlers return plain values: ``None`` (void), scalars, lists, or dicts. A dict with an
``objectType`` key is a Kaltura object; its keys are in the order the XML lists them. A dict without
``objectType`` is a map (XML ``<item><itemKey>``).

JSON: no envelope; ``None`` properties are omitted recursively; ``objectType`` is moved to the end of
every object; booleans are ``true``/``false``; ``/`` is escaped as ``\\/`` and non-ASCII as
``\\uXXXX`` like PHP's ``json_encode``. Errors are ``{"code","message","objectType","args"}`` with
``args`` an object of strings, or ``[]`` when the error has no arguments.

XML: ``<xml><result>…</result><executionTime>…</executionTime></xml>``; objects start with
``<objectType>``; ``None`` is an empty element (dropped with ``ignoreNull=1``); booleans are 1/0;
arrays are repeated ``<item>``; errors are ``<result><error>…</error></result>``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

from .errors import ApiError

FORMAT_JSON = 1
FORMAT_XML = 2
SUPPORTED_FORMATS = (FORMAT_JSON, FORMAT_XML)

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ExceptionResult:
    """An API error as a result value (used inside multirequest responses)."""

    def __init__(self, error: ApiError) -> None:
        self.error = error


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, ExceptionResult):
        return json_error_object(value.error)
    if isinstance(value, ApiError):
        return json_error_object(value)
    if isinstance(value, dict):
        return _json_object(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    return value


def _json_object(obj: dict) -> dict:
    result = {key: _json_value(value) for key, value in obj.items() if key != "objectType" and value is not None}
    if "objectType" in obj:
        result["objectType"] = obj["objectType"]
    return result


def json_error_object(error: ApiError) -> dict:
    """The JSON form of a ``KalturaAPIException`` (key order as the server writes it)."""
    return {
        "code": error.code,
        "message": error.message,
        "objectType": "KalturaAPIException",
        "args": dict(error.arguments) if error.arguments else [],
    }


def to_json(result: Any) -> str:
    """Serialize a result (or an ``ApiError``) as Kaltura's JSON format."""
    text = json.dumps(_json_value(result), ensure_ascii=True, separators=(",", ":"))
    # PHP's json_encode escapes slashes; "/" can only occur inside JSON strings.
    return text.replace("/", "\\/")


# ---------------------------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return escape(_XML_INVALID.sub("", str(value)))


def _xml_value(value: Any, ignore_null: bool) -> str:
    if isinstance(value, ExceptionResult):
        return xml_error_body(value.error)
    if isinstance(value, ApiError):
        return xml_error_body(value)
    if value is None:
        return ""
    if isinstance(value, dict):
        if "objectType" in value:
            return _xml_object(value, ignore_null)
        return "".join(
            f"<item><itemKey>{_text(k)}</itemKey>{_xml_value(v, ignore_null)}</item>" for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return "".join(f"<item>{_xml_value(item, ignore_null)}</item>" for item in value)
    return _text(value)


def _xml_object(obj: dict, ignore_null: bool) -> str:
    parts = [f"<objectType>{_text(obj['objectType'])}</objectType>"]
    for key, value in obj.items():
        if key == "objectType" or (value is None and ignore_null):
            continue
        parts.append(f"<{key}>{_xml_value(value, ignore_null)}</{key}>")
    return "".join(parts)


def xml_error_body(error: ApiError) -> str:
    """``<error>…</error>`` for a ``KalturaAPIException``."""
    args = "".join(
        "<item><objectType>KalturaApiExceptionArg</objectType>"
        f"<name>{_text(name)}</name><value>{_text(value)}</value></item>"
        for name, value in error.arguments.items()
    )
    return (
        f"<error><code>{_text(error.code)}</code><message>{_text(error.message)}</message>"
        f"<objectType>KalturaAPIException</objectType><args>{args}</args></error>"
    )


def to_xml(result: Any, execution_time: float, ignore_null: bool = False) -> str:
    """Serialize a result (or an ``ApiError``) in Kaltura's XML envelope."""
    body = _xml_value(result, ignore_null)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<xml><result>{body}</result><executionTime>{execution_time:.6f}</executionTime></xml>"
    )


def render(result: Any, fmt: int, execution_time: float, ignore_null: bool = False) -> tuple[str, str]:
    """``(body, content type)`` of a result in the requested format."""
    if fmt == FORMAT_JSON:
        return to_json(result), "application/json"
    return to_xml(result, execution_time, ignore_null), "text/xml"
