"""Parsing and validating the App Token JSON an admin pastes (issue 4, item 3).

Admins create two App Tokens with ``appToken.add`` in Kaltura's developer console and paste the
responses. We accept exactly that text as pasted: surrounding whitespace, a byte-order mark, a
copied "Response body" label line, code fences, pretty-printed or not. Everything else is
reported as a :class:`Finding` with a stable ``code``, a message that says what is wrong *and* how
to fix it, and the form field it belongs to. Nothing here talks to Kaltura, and nothing raises on
bad input: arbitrary text only ever produces findings.

Roles (DESIGN §3.1): the *client* token mints USER sessions for the mapped Kaltura user with
entitlement enforced; the *server* token (entitlement disabled) is for server-side lookups,
provisioning and diagnostics.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from portal.kaltura.redaction import redact_text
from portal.kaltura.types import Privileges, SessionType, as_int, as_str

Level = Literal["error", "warning", "ok"]
Role = Literal["client", "server"]
FieldName = Literal["client_token", "server_token"]

#: ``KalturaAppTokenHashType`` values, mapped to :mod:`hashlib` names.
HASH_TYPES = {"SHA1": "sha1", "MD5": "md5", "SHA256": "sha256", "SHA512": "sha512"}
WEAK_HASH_TYPES = {"SHA1", "MD5"}

#: Longest paste we look at; an App Token response is well under 2 KB.
MAX_INPUT_CHARS = 64 * 1024
EXPIRY_WARNING = timedelta(days=30)

_STATUS_NAMES = {1: "disabled", 2: "active", 3: "deleted"}
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN_PATTERN = re.compile(r"^[0-9a-f]{32}$")
# A copied label such as "Response body", "Response Body:" or "Result" on a line of its own.
_LABEL_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9 ()_./-]{0,40}:?$")

#: The privileges the help on the Kaltura tab tells admins to give each token (the help article's
#: recipe; a role on the server token is the better setup the help describes next).
CLIENT_PRIVILEGES = "enableentitlement,privacycontext:YOUR_CONTEXT,list:*"
SERVER_PRIVILEGES = "disableentitlement"
SERVER_PRIVILEGES_WITH_ROLE = "setrole:ROLE_ID,disableentitlement"

# A token id alone (``0_ab12cd34``) or the 32-character secret alone, perhaps quoted or with a comma.
_ID_ALONE = re.compile(r"^[0-9]{1,3}_[A-Za-z0-9]{6,12}$")
_SECRET_ALONE = re.compile(r"^[0-9A-Fa-f]{32}$")
_QUOTES_AND_COMMAS = "\"'\u201c\u201d\u2018\u2019,; "
# Curly double quotes as email and word processors make them; read as straight ones.
_CURLY_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"'})
# Program code around (or instead of) the response: SDK calls, curl, PHP, JavaScript, Python.
_CODE = re.compile(
    r"(appToken\s*(\.|->)\s*add\s*\(|new\s+Kaltura\w*|Kaltura\w+\s*\(|\$\w+\s*->|=>|\)\s*;\s*$"
    r"|^\s*(curl|import|from|const|let|var|function|def|client|<\?php)\b)",
    re.IGNORECASE | re.MULTILINE,
)
# Lone surrogates (a JSON "\ud800" escape) and control characters other than tab and line breaks:
# the database and the pages cannot hold them.
_BAD_CHARACTERS = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_KEY_BEFORE = re.compile(r'"([A-Za-z][A-Za-z0-9_]{0,39})"\s*:')
_ONE_LINE = re.compile(r'^"?([A-Za-z][A-Za-z0-9_]{0,39})"?\s*:\s*[^\n]*$')
_REQUEST_KEYS = {"appToken", "ks", "format", "service", "action", "partnerId", "clientTag"}


@dataclass(frozen=True)
class Finding:
    """One result of validation: ``level`` error/warning/ok, a stable ``code``, and the message with its fix."""

    level: Level
    code: str
    message: str
    field: FieldName | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "code": self.code, "message": self.message, "field": self.field}


@dataclass(frozen=True)
class AppToken:
    """A validated ``KalturaAppToken``. ``token`` is the secret: it never appears in ``repr()``."""

    id: str
    token: str = field(repr=False)
    partner_id: int = 0
    hash_type: str = "SHA1"
    privileges: Privileges = field(default_factory=Privileges)
    session_type: SessionType | None = None
    session_user_id: str | None = None
    session_duration: int | None = None
    expiry: datetime | None = None
    status: int | None = None
    description: str | None = None

    def token_hash(self, ks: str) -> str:
        """``hex(hash(ks + token))`` with the token's ``hashType``: the ``tokenHash`` for ``appToken.startSession``."""
        return hashlib.new(HASH_TYPES[self.hash_type], (ks + self.token).encode()).hexdigest()

    def public_summary(self) -> dict[str, Any]:
        """What the UI may show after saving: everything except the secret."""
        return {
            "id": self.id,
            "partner_id": self.partner_id,
            "hash_type": self.hash_type,
            "privileges": str(self.privileges),
            "session_type": self.session_type.name if self.session_type is not None else None,
            "session_user_id": self.session_user_id,
            "session_duration": self.session_duration,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "status": _STATUS_NAMES.get(self.status or 0),
            "description": self.description,
        }


@dataclass(frozen=True)
class PairResult:
    """The outcome of validating both pasted tokens together."""

    client: AppToken | None
    server: AppToken | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed): the tokens may be saved."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    def for_field(self, name: FieldName | None) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.field == name)


class _Findings:
    """Collects findings for one field."""

    def __init__(self, field_name: FieldName | None) -> None:
        self.field = field_name
        self.items: list[Finding] = []

    def error(self, code: str, message: str) -> None:
        self.items.append(Finding("error", code, message, self.field))

    def warning(self, code: str, message: str) -> None:
        self.items.append(Finding("warning", code, message, self.field))

    def ok(self, code: str, message: str) -> None:
        self.items.append(Finding("ok", code, message, self.field))

    @property
    def has_errors(self) -> bool:
        return any(f.level == "error" for f in self.items)


def parse_app_token(
    text: Any, role: Role = "client", *, now: datetime | None = None
) -> tuple[AppToken | None, list[Finding]]:
    """Parse one pasted App Token for ``role``; return the token (``None`` on any error) and the findings.

    Never raises for bad input: anything that is not a usable App Token becomes an error finding.
    """
    name = "client" if role == "client" else "server"
    found = _Findings(f"{name}_token")  # type: ignore[arg-type]
    data = _load_json(text, name, found)
    if data is None:
        return None, found.items
    token = _check_fields(data, name, found, now or datetime.now(UTC))
    if found.has_errors:
        return None, found.items
    assert token is not None
    _check_role(token, name, found)
    if found.has_errors:
        return None, found.items
    found.ok(f"{name}_token_ok", _describe(token, name))
    return token, found.items


def validate_pair(client_text: Any, server_text: Any, now: datetime | None = None) -> PairResult:
    """Validate both tokens and how they fit together (same partner, two different tokens, right fields).

    Each problem is reported once: two tokens in each other's fields are one finding, not one per field.
    """
    now = now or datetime.now(UTC)
    client, client_findings = parse_app_token(client_text, "client", now=now)
    server, server_findings = parse_app_token(server_text, "server", now=now)
    client_codes = {f.code for f in client_findings}
    server_codes = {f.code for f in server_findings}
    if isinstance(client_text, str) and client_text.strip() and client_text.strip() == str(server_text).strip():
        same = Finding(
            "error",
            "same_token_twice",
            "The same App Token was pasted into both fields. Paste the server token (the one with "
            "disableentitlement) into the server token field.",
            "server_token",
        )
        return PairResult(None, None, (*[f for f in client_findings if f.level != "ok"], same))
    if "server_token_in_client_field" in client_codes and "client_token_in_server_field" in server_codes:
        swapped = Finding(
            "error",
            "tokens_swapped",
            "The two tokens are in each other's fields: the one under Client App Token has disableentitlement "
            "(a server token) and the one under Server App Token has enableentitlement (a client token). "
            "Swap the two fields, then test again.",
            "client_token",
        )
        others = [
            f
            for f in (*client_findings, *server_findings)
            if f.code not in {"server_token_in_client_field", "client_token_in_server_field"}
        ]
        return PairResult(None, None, (swapped, *others))
    findings = [*client_findings, *server_findings]
    if client and server:
        pair = pair_findings(client, server)
        if pair:
            return PairResult(None, None, tuple([f for f in findings if f.level != "ok"] + pair))
    return PairResult(client, server, tuple(findings))


class TokenFacts(Protocol):
    """What the pair check needs to know of a token: a pasted :class:`AppToken` or a saved one."""

    @property
    def id(self) -> str: ...

    @property
    def partner_id(self) -> int: ...


def pair_findings(client: TokenFacts, server: TokenFacts) -> list[Finding]:
    """Errors about two tokens used together: the same token twice, or two Kaltura accounts.

    Also used when one token is pasted and the other is the one already saved (whose secret is
    not unsealed for this: its id and partner are public).
    """
    client_secret, server_secret = getattr(client, "token", None), getattr(server, "token", None)
    if client.id == server.id or (client_secret is not None and client_secret == server_secret):
        return [
            Finding(
                "error",
                "same_token_twice",
                f"Both fields hold App Token {client.id}. The client and server "
                "tokens must be two different tokens: create the second one with appToken.add and paste it here.",
                "server_token",
            )
        ]
    if client.partner_id != server.partner_id:
        return [
            Finding(
                "error",
                "partner_mismatch",
                f"The tokens belong to different Kaltura accounts (partner "
                f"{client.partner_id} and partner {server.partner_id}). Create both tokens in the same account.",
                "server_token",
            )
        ]
    return []


def findings_as_dicts(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """``[{"level", "code", "message", "field"}, ...]`` for JSON output (CLI ``--json``)."""
    return [f.as_dict() for f in findings]


# --- reading the pasted text -------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _load_json(text: Any, name: str, found: _Findings) -> dict[str, Any] | None:
    """The pasted JSON object, or ``None`` after recording, in plain words, why it is not one."""
    if not isinstance(text, str) or not text.strip().lstrip("\ufeff").strip():
        found.error("empty", f"Paste the {name} App Token: the JSON that appToken.add returned.")
        return None
    if len(text) > MAX_INPUT_CHARS:
        found.error(
            "too_long",
            f"This is far longer than an App Token ({len(text)} characters). Paste only the "
            "JSON object that appToken.add returned.",
        )
        return None
    source = text.lstrip("\ufeff")
    body, offset = _strip_wrappers(source)
    if _recognised_fragment(body, found):
        return None
    parsed = _parse(body, source, offset, found)
    if found.has_errors:
        return None
    return _clean_strings(_as_app_token_object(parsed, found), found)


def _recognised_fragment(body: str, found: _Findings) -> bool:
    """Record an error for pastes that are recognisably not the response: an id, a secret, XML, a KS, code."""
    bare = body.strip(_QUOTES_AND_COMMAS)
    if _ID_ALONE.match(bare):
        found.error(
            "only_token_id",
            f"That is only the token's id ({bare}). Paste the whole response of appToken.add, from the opening "
            "{ to the closing }: it also holds the secret token, which the portal needs.",
        )
    elif (line := _ONE_LINE.match(bare)) and "{" not in body:
        found.error(
            "only_one_line",
            f'That is only one line of the response (the "{line.group(1)}"). Paste the whole response of '
            "appToken.add, from the opening { to the closing }.",
        )
    elif _SECRET_ALONE.match(bare):
        found.error(
            "only_secret",
            "That is only the secret token. Paste the whole response of appToken.add, from the opening { to the "
            'closing }: the portal also needs the token\'s "id" and "partnerId" from it.',
        )
    elif body.startswith("<"):
        found.error(
            "looks_like_xml",
            "This is XML, not JSON. In the developer console choose the JSON response "
            "format (format=1) and paste the JSON that appToken.add returned.",
        )
    elif body.startswith("djJ8"):
        found.error(
            "looks_like_ks",
            "This looks like a Kaltura session (KS), not an App Token. Paste the JSON object "
            'that appToken.add returned (it has "id" and "token").',
        )
    elif not body.startswith(("{", "[")) and _CODE.search(body):
        found.error(
            "looks_like_code",
            "This is program code (a request to Kaltura), not Kaltura's answer. In the developer console, "
            'run appToken.add with "Send request", then copy the response it shows: the JSON that starts '
            'with {"id": and holds "token".',
        )
    else:
        return False
    return True


def _parse(body: str, source: str, offset: int, found: _Findings) -> Any:
    """Decode ``body``, accepting curly quotes and trailing commas (and saying so), or record an error."""
    try:
        return _decode(body)
    except _DuplicateKey as error:
        _duplicate(error, found)
        return None
    except json.JSONDecodeError as error:
        first = error
    except (ValueError, RecursionError):
        _not_allowed(found)
        return None
    # Both repairs keep every character's position, so an error found after them points at the
    # same line and column of the text as pasted.
    curly = body.translate(_CURLY_QUOTES)
    repaired = _drop_trailing_commas(curly)
    try:
        data = _decode(repaired)
    except _DuplicateKey as error:
        _duplicate(error, found)
        return None
    except json.JSONDecodeError as error:
        _explain(error if curly != body else first, source, offset, found)
        return None
    except (ValueError, RecursionError):
        _not_allowed(found)
        return None
    if curly != body:
        found.ok(
            "curly_quotes_accepted",
            "The pasted text has curly quotes (\u201c \u201d), as email and word processors make them: "
            "they were read as straight quotes.",
        )
    if repaired != curly:
        found.ok(
            "trailing_comma_accepted",
            "The pasted text has a comma just before a closing } or ]; it was ignored.",
        )
    return data


def _decode(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys silently; a token with two "token" values is ambiguous.
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data


def _duplicate(error: _DuplicateKey, found: _Findings) -> None:
    key = _printable(error.key)[:40]
    found.error(
        "duplicate_key",
        f'The pasted JSON has the key "{key}" twice, so it is not clear which value counts. Kaltura never '
        "returns a key twice: copy the response of appToken.add again, unchanged.",
    )


def _not_allowed(found: _Findings) -> None:
    found.error(
        "not_json",
        "This is not valid JSON (it contains values JSON does not allow, or is nested too "
        "deeply). Copy the response of appToken.add again.",
    )


def _drop_trailing_commas(text: str) -> str:
    """``text`` with each comma that directly precedes a closing ``}`` or ``]`` replaced by a space."""
    chars = list(text)
    in_string = escaped = False
    for index, char in enumerate(chars):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == ",":
            rest = text[index + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                chars[index] = " "
    return "".join(chars)


def _explain(error: json.JSONDecodeError, source: str, offset: int, found: _Findings) -> None:
    """A JSON syntax error in plain words, with the line and column of the text as pasted."""
    text, position = error.doc, error.pos
    line, column = _line_column(source, offset + position)
    where = f"at line {line}, column {column}"
    near = _key_before(text, position)
    after = f' (just after "{near}")' if near else ""
    again = "Copy the whole response of appToken.add again, from the opening { to the closing }."
    if error.msg == "Extra data":
        rest = text[position:].lstrip()
        if rest.startswith("{"):
            found.error(
                "two_objects",
                "This field holds more than one JSON object. Paste one App Token per field: the client token "
                "here, the server token in its own field.",
            )
        else:
            found.error("not_json", f"There is more text after the closing }} {where}. Paste only the JSON object.")
        return
    if position >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
        found.error(
            "truncated",
            f"The pasted text stops too early {where}: its end is missing, as if the copy was cut short. {again}",
        )
        return
    if error.msg.startswith("Expecting property name") and text[position : position + 1] == "'":
        found.error(
            "single_quotes",
            f"The text uses single quotes ('id') {where}, but JSON needs double quotes (\"id\"). It was probably "
            f"printed by a program rather than copied from the console. {again}",
        )
        return
    plain = {
        "Expecting ',' delimiter": f"a comma is missing {where}{after}",
        "Expecting ':' delimiter": f"a colon is missing {where}{after}",
        "Expecting property name enclosed in double quotes": f"a key is not in double quotes {where}",
        "Expecting value": f"a value is missing {where}{after}",
        "Invalid control character at": f"a quoted value is broken across lines {where}{after}; email "
        "programs do that to long lines",
    }.get(error.msg, f"{error.msg} {where}")
    found.error("not_json", f"This is not valid JSON: {plain}. {again}")


def _key_before(text: str, position: int) -> str | None:
    keys = [match.group(1) for match in _KEY_BEFORE.finditer(text, 0, position)]
    return keys[-1] if keys else None


def _printable(text: str) -> str:
    return _BAD_CHARACTERS.sub("\ufffd", text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _strip_wrappers(text: str) -> tuple[str, int]:
    """Drop label lines (``Response body``) and code fences around the JSON; return it and its offset."""
    lines = text.splitlines(keepends=True)
    start, end = 0, len(lines)
    while start < end and _is_wrapper_line(lines[start]):
        start += 1
    while end > start and _is_wrapper_line(lines[end - 1]):
        end -= 1
    offset = sum(len(line) for line in lines[:start])
    body = "".join(lines[start:end])
    stripped = body.lstrip()
    if not stripped.startswith(("{", "[")):
        # Nothing JSON-like behind the "labels": judge the text as it is.
        offset, body = 0, text
        stripped = body.lstrip()
    return stripped.rstrip(), offset + (len(body) - len(stripped))


def _is_wrapper_line(line: str) -> bool:
    text = line.strip()
    if not text or text.startswith("```"):
        return True
    return bool(_LABEL_LINE.match(text)) and text.lower() not in {"null", "true", "false"}


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


def _as_app_token_object(data: Any, found: _Findings) -> dict[str, Any] | None:
    if isinstance(data, dict) and set(data) == {"result"} and isinstance(data["result"], dict):
        data = data["result"]  # some tools wrap the answer in {"result": ...}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        found.error(
            "not_app_token",
            f"This is {kind}, not an App Token. Paste the JSON object that appToken.add "
            'returned (it starts with {"id": ...).',
        )
        return None
    object_type = data.get("objectType")
    if object_type == "KalturaAPIException" or ("code" in data and "message" in data and "token" not in data):
        code = redact_text(_printable(str(data.get("code", ""))))[:80]
        message = redact_text(_printable(str(data.get("message", ""))))[:200]
        found.error(
            "kaltura_error",
            f"This is an error from Kaltura ({code}: {message}), not an App Token. Fix the "
            "appToken.add call and paste its successful response.",
        )
        return None
    is_request = "appToken" in data and set(data) <= _REQUEST_KEYS
    if is_request or (object_type == "KalturaAppToken" and "id" not in data and "token" not in data):
        found.error(
            "request_not_response",
            "This is what you send to appToken.add (the request), not what Kaltura answered. Send the request, "
            'then copy the response: it has an "id" and the secret "token".',
        )
        return None
    known = {"id", "token", "hashType", "sessionPrivileges", "sessionType", "partnerId"}
    if (object_type is not None and object_type != "KalturaAppToken") or not known & set(data):
        what = f"a {_printable(str(object_type))[:60]}" if isinstance(object_type, str) else "some other JSON object"
        found.error(
            "not_app_token",
            f"This is {what}, not an App Token. Paste the response of appToken.add (its "
            "objectType is KalturaAppToken).",
        )
        return None
    return data


def _clean_strings(data: dict[str, Any] | None, found: _Findings) -> dict[str, Any] | None:
    """Refuse characters no page or database can hold; in the free-text description, drop them."""
    if data is None:
        return None
    for key, value in data.items():
        if not isinstance(value, str) or not _BAD_CHARACTERS.search(value):
            continue
        if key == "description":
            data[key] = _BAD_CHARACTERS.sub("", value)
            found.ok(
                "description_cleaned",
                "The token's description had characters that are not text (such as an unpaired \\ud800 "
                "escape); they were left out. The description is for display only.",
            )
        else:
            found.error(
                "invalid_characters",
                f'The token\'s "{_printable(key)[:40]}" holds characters that are not text (control characters or '
                "an unpaired \\ud800 escape). Paste the response of appToken.add unchanged.",
            )
    return None if found.has_errors else data


# --- checking the fields --------------------------------------------------------------------


def _check_fields(data: Mapping[str, Any], name: str, found: _Findings, now: datetime) -> AppToken | None:
    token_id = _check_id(data.get("id"), found)
    secret = _check_secret(data.get("token"), found)
    partner = _check_partner(data.get("partnerId"), found)
    hash_type = _check_hash_type(data.get("hashType"), found)
    status = _check_status(data.get("status"), found)
    expiry = _check_expiry(data.get("expiry"), found, now)
    session_type = _check_session_type(data.get("sessionType"), found)
    duration = as_int(data.get("sessionDuration"))
    if found.has_errors or token_id is None or secret is None or partner is None or hash_type is None:
        return None
    return AppToken(
        id=token_id,
        token=secret,
        partner_id=partner,
        hash_type=hash_type,
        privileges=Privileges.parse(data.get("sessionPrivileges")),
        session_type=session_type,
        session_user_id=as_str(data.get("sessionUserId")) or None,
        session_duration=duration,
        expiry=expiry,
        status=status,
        description=as_str(data.get("description")),
    )


def _check_id(value: Any, found: _Findings) -> str | None:
    if value is None or value == "":
        found.error(
            "missing_id",
            'The App Token has no "id". Paste the complete appToken.add response, which '
            "includes the token's id (like 0_ab12cd34).",
        )
        return None
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        found.error(
            "invalid_id",
            'The App Token\'s "id" is not a Kaltura id (like 0_ab12cd34). Paste the response '
            "of appToken.add unchanged.",
        )
        return None
    return value


def _check_secret(value: Any, found: _Findings) -> str | None:
    if value is None or value == "":
        found.error(
            "missing_token",
            'The App Token has no "token" value (the secret). Kaltura shows it in the '
            "response of appToken.add: paste that response, not the output of appToken.get or list.",
        )
        return None
    if not isinstance(value, str) or not _TOKEN_PATTERN.match(value.lower()):
        found.error(
            "token_not_hex",
            'The App Token\'s "token" should be 32 hexadecimal characters (0-9, a-f). '
            "It was changed or cut short: copy the response of appToken.add again.",
        )
        return None
    return value.lower()


def _check_partner(value: Any, found: _Findings) -> int | None:
    if value is None:
        found.error(
            "missing_partner_id",
            'The App Token has no "partnerId", which the portal needs to start '
            "sessions. Paste the complete appToken.add response.",
        )
        return None
    partner = as_int(value)
    if partner is None or partner <= 0:
        found.error(
            "invalid_partner_id",
            'The App Token\'s "partnerId" is not a Kaltura partner id (a positive '
            "number). Paste the appToken.add response unchanged.",
        )
        return None
    return partner


def _check_hash_type(value: Any, found: _Findings) -> str | None:
    if value is None:
        value = "SHA1"  # Kaltura's default when the token was created without one (reference §2.3.1)
    text = str(value).strip().upper() if isinstance(value, str) else None
    if text not in HASH_TYPES:
        shown = str(value)[:40]
        found.error(
            "unknown_hash_type",
            f"The App Token's hashType {shown!r} is not one Kaltura supports "
            "(SHA256, SHA512, SHA1, MD5). Create the token again with hashType SHA256.",
        )
        return None
    if text in WEAK_HASH_TYPES:
        found.warning(
            "weak_hash_type",
            f"The App Token uses {text}, a weak hash. It works, but create tokens "
            "with hashType SHA256 when you next replace them.",
        )
    return text


def _check_status(value: Any, found: _Findings) -> int | None:
    if value is None:
        return None
    status = as_int(value)
    if status != 2:
        label = _STATUS_NAMES.get(status or 0, f"status {str(value)[:20]}")
        found.error(
            "status_not_active",
            f"The App Token is {label}, not active. Enable it in Kaltura "
            "(appToken.update with status 2) or create a new one, and paste it again.",
        )
    return status


def _check_expiry(value: Any, found: _Findings, now: datetime) -> datetime | None:
    if value is None:
        return None
    seconds = as_int(value)
    if seconds is None or seconds < 0 or seconds > 253402300799:
        found.error(
            "invalid_expiry",
            'The App Token\'s "expiry" is not a date Kaltura would return. Paste the appToken.add response unchanged.',
        )
        return None
    if seconds == 0:
        return None  # Kaltura treats 0 like no expiry
    expiry = datetime.fromtimestamp(seconds, UTC)
    day = expiry.strftime("%Y-%m-%d %H:%M UTC")
    if expiry <= now:
        found.error(
            "expired",
            f"The App Token expired on {day}. Create a new token with appToken.add (with a "
            "later expiry, or none) and paste it.",
        )
    elif expiry - now < EXPIRY_WARNING:
        days = max((expiry - now).days, 0)
        found.warning(
            "expiring_soon",
            f"The App Token expires on {day}, in {days} day{'s' if days != 1 else ''}; "
            "after that the integration stops working. Create a replacement token before then.",
        )
    return expiry


def _check_session_type(value: Any, found: _Findings) -> SessionType | None:
    if value is None:
        return None
    number = as_int(value)
    if number not in (0, 2):
        found.error(
            "invalid_session_type",
            f"The App Token's sessionType {str(value)[:20]!r} is not USER (0) or "
            "ADMIN (2). Paste the appToken.add response unchanged.",
        )
        return None
    return SessionType(number)


def _check_role(token: AppToken, name: str, found: _Findings) -> None:
    if name == "client":
        _check_client_privileges(token, found)
    else:
        _check_server_privileges(token, found)
    if token.session_type == SessionType.ADMIN:
        found.warning(
            "admin_session_type",
            f"The {name} token starts ADMIN sessions, which can read and change "
            "everything in the Kaltura account. Least privilege: create it with sessionType 0 (USER) and "
            "a role (setrole:ROLE_ID) that allows only what the portal needs.",
        )


def _check_client_privileges(token: AppToken, found: _Findings) -> None:
    privileges = token.privileges
    if not privileges.enables_entitlement:
        if privileges.has("disableentitlement"):
            found.error(
                "server_token_in_client_field",
                "This is a server token: it has disableentitlement, and the client token needs enableentitlement. "
                "Paste it into the Server App Token field, and paste the client token here.",
            )
        else:
            found.error(
                "client_missing_enableentitlement",
                "The client token has no enableentitlement privilege, so users could see media they are not "
                f"entitled to. Create the client token with sessionPrivileges {CLIENT_PRIVILEGES} "
                '(see "How to create the two App Tokens").',
            )
        return
    if not privileges.lists_all:
        found.warning(
            "client_missing_list_all",
            "The client token has no list:* privilege, so each user will see "
            "only the media they own in the picker, nothing shared with them. Add list:* to its "
            "sessionPrivileges if users should also see shared media.",
        )
    if not privileges.privacy_context:
        found.warning(
            "client_missing_privacycontext",
            "The client token has no privacycontext privilege, so "
            "entitlement uses Kaltura's default context: users will see media without categories from "
            "the whole account and media shared with them, but not media published to your portal's "
            "categories. Add privacycontext:YOUR_CONTEXT to its sessionPrivileges.",
        )
    if token.session_user_id:
        found.warning(
            "client_fixed_user",
            f"The client token always acts as Kaltura user "
            f"{token.session_user_id!r} (sessionUserId), so every portal user will see and upload as that "
            "one user. Create the client token without sessionUserId to map each portal user.",
        )


def _check_server_privileges(token: AppToken, found: _Findings) -> None:
    privileges = token.privileges
    if privileges.enables_entitlement and not privileges.has("disableentitlement"):
        found.error(
            "client_token_in_server_field",
            "This is a client token: it has enableentitlement, which the server token must not have. Paste it "
            "into the Client App Token field, and paste the server token (the one with disableentitlement) here.",
        )
    elif privileges.enables_entitlement:
        found.error(
            "server_enables_entitlement",
            "The server token has both enableentitlement and disableentitlement; enableentitlement wins, so it "
            "cannot look up and provision users across the account. Create the server token with "
            f"sessionPrivileges {SERVER_PRIVILEGES} (or {SERVER_PRIVILEGES_WITH_ROLE} with a role).",
        )
    elif not privileges.has("disableentitlement"):
        found.error(
            "server_missing_disableentitlement",
            "The server token has no disableentitlement privilege, so server-side checks could miss media and "
            f"users hidden by entitlement. Create the server token with sessionPrivileges {SERVER_PRIVILEGES} "
            f"(or {SERVER_PRIVILEGES_WITH_ROLE} with a role).",
        )


def _describe(token: AppToken, name: str) -> str:
    kind = token.session_type.name if token.session_type is not None else "USER (caller's choice)"
    expiry = token.expiry.strftime("%Y-%m-%d") if token.expiry else "never"
    return (
        f"{name.capitalize()} token {token.id}: partner {token.partner_id}, {token.hash_type}, {kind} sessions, "
        f"privileges {str(token.privileges) or '(none)'}, expires {expiry}."
    )
