"""Masking of Kaltura secrets in text: the second line of defence for logs and error messages.

The first line of defence is that the gateway never puts a KS, an App Token secret or a token hash
into a log call or an exception. This module catches what slips through anyway (an exception
from a library, Kaltura echoing a KS back in ``INVALID_KS``): it recognises

* Kaltura sessions, v2 (``djJ8…``, base64 of ``v2|``) and v1 (base64 of ``<sha1 hex>|<fields>``);
* long hexadecimal strings: App Token secrets (32 hex) and token hashes (40, 64 or 128 hex);
* the value after a secret-looking key, e.g. ``ks=…``, ``"tokenHash": "…"``, ``secret: …``;

and replaces each with ``[REDACTED]``. :class:`RedactingFilter` applies it to log records; the
``portal.kaltura`` logger has one installed by :func:`install`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re

MASK = "[REDACTED]"

LOGGER_NAME = "portal.kaltura"

_KS_V2 = re.compile(r"djJ8[A-Za-z0-9_\-+/=%]+")
_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{40,}={0,2}")
_KEYED = re.compile(
    r"(?i)(?P<key>[\"']?\b(?:ks|token|tokenhash|token_hash|secret|adminsecret|admin_secret|password|authorization)"
    r"\b[\"']?"
    r"\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;&}\]]+)"
)
_KS_V1_SIGNATURE = re.compile(rb"^[0-9a-f]{40}\|")


def _decodes_to_ks(chunk: str) -> bool:
    """Whether base64 ``chunk`` starts a KS: ``<40 hex>|`` (v1) or ``v2|``."""
    text = chunk.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(_KS_V1_SIGNATURE.match(decoded)) or decoded.startswith(b"v2|")


def _mask_ks_in_run(match: re.Match[str]) -> str:
    """Mask a v1 KS inside a base64-looking run, which may also hold URL path segments around it.

    The first 56 base64 characters of a v1 KS decode to its 40-hex signature and the ``|``, so
    we look for that at the run's start and after each ``/`` and mask from there to the run's end.
    """
    run = match.group(0)
    starts = [0] + [i + 1 for i, ch in enumerate(run) if ch == "/"]
    for start in starts:
        if _decodes_to_ks(run[start : start + 56]):
            return run[:start] + MASK
    return run


def redact_text(text: str) -> str:
    """Return ``text`` with every session, token, hash or keyed secret replaced by ``[REDACTED]``."""
    if not text:
        return text
    text = _KEYED.sub(lambda m: m.group("key") + MASK, text)
    text = _KS_V2.sub(MASK, text)
    text = _HEX.sub(MASK, text)
    return _BASE64_RUN.sub(_mask_ks_in_run, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final message and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record, nor leak its args
            message = str(record.msg)
        cleaned = redact_text(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> logging.Logger:
    """Attach one :class:`RedactingFilter` to ``logger`` (default: ``portal.kaltura``); idempotent."""
    target = logger or logging.getLogger(LOGGER_NAME)
    if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
        target.addFilter(RedactingFilter())
    return target
