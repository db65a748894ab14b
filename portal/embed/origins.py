"""Web origins (``scheme://host[:port]``) of the applications allowed to embed a hub's picker.

An origin is what browsers put in the ``Origin`` header and what ``frame-ancestors`` and
``postMessage`` compare: exactly a scheme, a host and a port. Anything else an admin might paste
(a path, a query, a wildcard, credentials) is refused with a message saying how to fix it, so
the list that reaches those headers is always exact. Hosts are canonicalised the same way as the
Kaltura service URL (``portal.kaltura.outbound.canonical_host``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.kaltura.outbound import DEFAULT_PORTS, canonical_host
from portal.validation import FieldError

#: Plain http is allowed only where browsers treat it as a secure context: this machine.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
MAX_ORIGINS = 20
EXAMPLE = "https://lms.example.org"


def canonical_origin(raw: str, field: str = "origin") -> str:
    """``raw`` as a canonical origin (lower-case, no default port, no trailing slash), or a FieldError."""
    text = (raw or "").strip()
    if text.endswith("/") and text.count("/") == 3:
        text = text[:-1]  # "https://lms.example.org/" is the same origin; accept it
    if not text:
        raise FieldError(field, f"Enter an origin such as {EXAMPLE}.")
    if len(text) > 300 or any(ch.isspace() or ord(ch) < 32 or ch in "\\*" for ch in text):
        raise FieldError(field, f"An origin has no spaces, wildcards or backslashes: write it like {EXAMPLE}.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise FieldError(field, f"That is not a valid origin; write it like {EXAMPLE}.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or "://" not in text:
        raise FieldError(field, f"Start the origin with https:// (for example {EXAMPLE}).")
    if "@" in parts.netloc:
        raise FieldError(field, "An origin has no user name or password: remove the part before @.")
    if parts.path or parts.query or parts.fragment:
        raise FieldError(
            field, f"An origin is only scheme, host and port, like {EXAMPLE}: remove the path or anything after it."
        )
    hostname = parts.hostname or ""
    try:
        host = canonical_host(f"[{hostname}]" if ":" in hostname else hostname)
    except ValueError as error:
        raise FieldError(field, f"The host is not valid: {error}.") from None
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise FieldError(
            field, "Use https:// for the host application; plain http is only allowed for localhost while testing."
        )
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_of(url: str | None) -> str | None:
    """The canonical origin of a full URL (e.g. ``request.host_url``), or ``None`` if it has none."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    try:
        return canonical_origin(f"{parts.scheme}://{parts.netloc}")
    except FieldError:
        # Our own address over plain http on a non-loopback host (development behind a name):
        # still an exact origin, just not one an admin could add.
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def same_origin(a: str | None, b: str | None) -> bool:
    """Whether two origins are the same once canonicalised (``None`` never matches)."""
    if not a or not b:
        return False
    try:
        return canonical_origin(a) == canonical_origin(b)
    except FieldError:
        return False
