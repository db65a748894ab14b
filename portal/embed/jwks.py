"""Fetching a host application's public keys (JWKS) for RS256/ES256 launch tokens.

The JWKS URL is typed by a hub admin and the portal then requests it, so it gets the same outbound
safety rules as the Kaltura service URL (``portal.kaltura.outbound``): https only (plain http only
for hosts the operator allows), the default port, no credentials or query, every resolved address
public unless the operator allowed the host, the checked address pinned for the connection, no
redirects followed, a short timeout and a size cap. Only public RSA and EC keys are kept.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.kaltura.errors import KalturaUnavailable, OutboundBlocked
from portal.kaltura.outbound import OutboundPolicy

logger = logging.getLogger("portal.embed")

#: Algorithms a JWKS key may sign launch tokens with.
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
_KEY_TYPES = {"RSA": "RS256", "EC": "ES256"}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class JwksError(Exception):
    """The JWKS URL or its answer is not usable; the message says why and what to do."""


@dataclass(frozen=True)
class JwksFetcher:
    """Fetches JWKS documents through an outbound policy for non-Kaltura hosts."""

    policy: OutboundPolicy
    timeout: float = 5.0
    max_bytes: int = 64 * 1024

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> JwksFetcher:
        """Any public https host, plus the operator's ``EMBED_JWKS_HTTP_HOSTS``/``_PRIVATE_HOSTS``."""
        policy = OutboundPolicy.from_settings(
            [],
            config.get("EMBED_JWKS_HTTP_HOSTS"),
            config.get("EMBED_JWKS_PRIVATE_HOSTS"),
            allow_custom_hosts=True,
        )
        return cls(policy, timeout=float(config.get("KALTURA_TIMEOUT") or 5.0))

    def check_url(self, url: str) -> str:
        """The URL as it will be fetched, or :class:`JwksError` (no network)."""
        text = (url or "").strip()
        if not text.startswith(("https://", "http://")):
            raise JwksError(
                "Enter the full https:// address of the key set, e.g. https://lms.example.org/.well-known/jwks.json."
            )
        try:
            self.policy.check_request_url(text)
        except OutboundBlocked as error:
            raise JwksError(_refusal(text, error)) from None
        return text

    def fetch(self, url: str) -> dict[str, Any]:
        """Download and validate the key set; returns ``{"keys": [...]}`` with public keys only."""
        self.check_url(url)
        session = self.policy.new_session(pool_maxsize=1)
        try:
            response = session.get(
                url,
                timeout=(min(self.timeout, 5.0), self.timeout),
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/json"},
            )
            with response:
                if 300 <= response.status_code < 400:
                    raise JwksError(
                        "The JWKS URL answered with a redirect, which the portal does not follow; "
                        "enter the final address."
                    )
                if response.status_code != 200:
                    raise JwksError(f"The JWKS URL answered HTTP {response.status_code}; check the address.")
                body = _read_capped(response, self.max_bytes)
        except OutboundBlocked as error:
            raise JwksError(_refusal(url, error)) from None
        except KalturaUnavailable:
            raise JwksError("The JWKS URL's host name does not resolve; check the address.") from None
        except requests.Timeout:
            raise JwksError("The JWKS URL did not answer in time; check that it is reachable.") from None
        except requests.RequestException:
            raise JwksError("The JWKS URL could not be reached; check the address.") from None
        finally:
            session.close()
        return parse_key_set(body)


def parse_key_set(body: bytes | str) -> dict[str, Any]:
    """Validate a JWKS document: public RSA/EC keys for RS256/ES256 only, at least one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise JwksError("The JWKS URL did not return JSON.") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise JwksError('The JWKS document has no "keys" list.')
    usable = []
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in _KEY_TYPES:
            continue
        if any(member in key for member in _PRIVATE_MEMBERS):
            raise JwksError("The JWKS document contains a private key. Publish public keys only, and replace that key.")
        if key.get("use") not in (None, "sig") or key.get("alg") not in (None, *ASYMMETRIC_ALGORITHMS):
            continue
        if key.get("kty") == "EC" and key.get("crv") != "P-256":
            continue
        usable.append(key)
    if not usable:
        raise JwksError("The JWKS document has no RSA or P-256 EC signing key (RS256 or ES256).")
    try:
        KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError):
        raise JwksError("A key in the JWKS document is malformed.") from None
    return {"keys": usable}


def key_set(document: Mapping[str, Any] | None) -> KeySet | None:
    """The cached document as a joserfc ``KeySet`` (``None`` when there is none)."""
    if not document or not document.get("keys"):
        return None
    return KeySet.import_key_set({"keys": list(document["keys"])})


def key_ids(document: Mapping[str, Any] | None) -> Sequence[str]:
    """The ``kid`` of every cached key (for the settings page)."""
    return [str(k.get("kid")) for k in (document or {}).get("keys", []) if k.get("kid")]


def _read_capped(response: requests.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=16 * 1024):
        size += len(chunk)
        if size > limit:
            raise JwksError(f"The JWKS document is larger than {limit // 1024} KB.")
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(url: str, error: OutboundBlocked) -> str:
    """Say what is wrong with the URL itself first; the policy's reason is about Kaltura hosts."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The JWKS URL is not a valid URL."
    if error.reason in ("userinfo", "query", "malformed", "host_invalid", "private_address"):
        return _blocked_message(error)
    if parts.scheme == "http":
        return "The JWKS URL must use https://."
    if port not in (None, 443):
        return "The JWKS URL must use the default https port (443)."
    try:
        ipaddress.ip_address((parts.hostname or "").strip("[]"))
    except ValueError:
        return _blocked_message(error)
    return "The JWKS URL must name its host (not an IP address)."


def _blocked_message(error: OutboundBlocked) -> str:
    reasons = {
        "scheme": "The JWKS URL must use https://.",
        "userinfo": "The JWKS URL must not contain a user name or password.",
        "query": "The JWKS URL must not have a query (?) or fragment (#).",
        "port": "The JWKS URL must use the default https port.",
        "private_address": "The JWKS URL's host resolves to a private or internal address, "
        "which the portal may not contact.",
        "host_not_allowed": "The portal may not contact that host; use a public https host.",
        "host_invalid": "The JWKS URL's host is not valid.",
        "redirect": "The JWKS URL answered with a redirect, which the portal does not follow.",
    }
    logger.warning("jwks fetch refused reason=%s", error.reason)
    return reasons.get(error.reason, "The JWKS URL is not allowed; use a public https:// address.")
