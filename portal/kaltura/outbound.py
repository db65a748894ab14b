"""Where the portal may send requests: the service-URL policy and the SSRF-safe transport.

The Kaltura service URL is typed (or chosen) by a hub admin and the server then sends requests
to it, so it is a server-side request forgery vector (reference/security.md §2.1). Three layers
keep it safe, and each refuses *before* a connection is opened:

1. :meth:`OutboundPolicy.check_url` accepts only a canonical origin: ``https`` (plain ``http``
   only for hosts the operator allows), a host on the operator's allow-list (the Kaltura SaaS
   regions by default), the default port unless the operator allows another, and no userinfo,
   query or fragment. Host names are canonicalised (lower case, trailing dot removed).
2. :meth:`OutboundPolicy.resolve` looks the host up and checks *every* address returned: a
   private, loopback, link-local, reserved, multicast or otherwise non-public address (IPv4-mapped
   IPv6 included) is refused unless the operator allowed that host.
3. :class:`PinnedAdapter` connects to the address that was checked, not to a fresh DNS answer,
   which defeats DNS rebinding; TLS still verifies the certificate against the host name.
   Redirects are never followed.

Every refusal is announced on the :data:`blocked` signal (stage, host, reason) so the web layer can
write it to the audit log with the hub, user and request it belongs to; this module knows nothing
of either.

A :class:`Deadline` bounds a whole exchange, not each socket read: a server that sends one byte
every two seconds never trips a read timeout, so while a deadline is active every socket the
transport uses is registered with it and shut down when it expires, which ends the exchange at
once wherever it is (headers or body).

``requests-hardened`` (Saleor) 1.3.0 was evaluated for layers 2-3 and not used: it checks only the
first address getaddrinfo returns, and its only exception is a global "allow loopback" switch, so
it cannot allow just the operator's own hosts.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from blinker import Namespace
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.connection import HAS_IPV6

from portal.kaltura.errors import KalturaUnavailable, OutboundBlocked

logger = logging.getLogger("portal.kaltura")

#: Sent with ``stage`` ("policy": the URL was refused before any lookup; "address": the host
#: resolved to a forbidden address; "redirect": Kaltura answered with a redirect), ``host``,
#: ``reason`` (the :class:`OutboundBlocked` reason code) and, for "address", the ``address``.
blocked = Namespace().signal("outbound-blocked")

DEFAULT_PORTS = {"https": 443, "http": 80}
# What the database keeps for a service URL; an origin is far shorter.
MAX_URL_LENGTH = 255
MAX_REQUEST_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class KalturaRegion:
    """One Kaltura SaaS region: the choice an admin sees in the service-URL select box."""

    key: str
    label: str
    host: str

    @property
    def url(self) -> str:
        return f"https://{self.host}"


# Kaltura's multi-tenant SaaS API hosts. www.kaltura.com is in Kaltura's own docs and client
# defaults (reference §1.1). The regional hosts were confirmed with the search tool: they are
# listed together (with their data-centre names frp2/irp2/sgp2/cap2/syp2) in Kaltura's Premiere
# plugin documentation and in a Kaltura API guide, and api.eu/api.sg/api.ca also appear in
# production embeds and integrations. Operators can replace this list (see from_settings).
SAAS_REGIONS: tuple[KalturaRegion, ...] = (
    KalturaRegion("us", "United States (default)", "www.kaltura.com"),
    KalturaRegion("de", "Germany (Frankfurt)", "api.de.kaltura.com"),
    KalturaRegion("eu", "European Union (Ireland)", "api.eu.kaltura.com"),
    KalturaRegion("ca", "Canada", "api.ca.kaltura.com"),
    KalturaRegion("sg", "Singapore", "api.sg.kaltura.com"),
    KalturaRegion("ap", "Australia", "api.ap.kaltura.com"),
)

# Ranges that Python's ipaddress does not flag (or flags only in newer versions) but that can
# route to internal networks or embed an internal IPv4 address.
_EXTRA_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b::/96",  # NAT64: embeds an IPv4 address
        "64:ff9b:1::/48",  # local-use NAT64
        "2001::/32",  # Teredo: embeds an IPv4 address
        "2001:20::/28",  # ORCHIDv2
        "2002::/16",  # 6to4: embeds an IPv4 address
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fec0::/10",  # deprecated site-local
    )
)

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ALLOWED_PATHS = {"", "/", "/api_v3", "/api_v3/"}


def is_public_address(ip: IPAddress) -> bool:
    """True only for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global:
        return False
    if ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_private:
        return False
    return not any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED_NETWORKS)


def canonical_host(raw: str) -> str:
    """Lower-case ``raw``, drop one trailing dot, and check it is a DNS name or a plain IP literal.

    IPv6 literals come back in brackets (``[::1]``). Raises ``ValueError`` for anything else:
    non-ASCII names (use the ``xn--`` form), percent-escapes, numeric tricks such as
    ``2130706433`` or ``0x7f.1`` (a name's last label may not be all digits), empty labels.
    """
    host = raw.lower()
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        if "%" in inner:
            raise ValueError("IPv6 zone ids are not allowed")
        return f"[{ipaddress.IPv6Address(inner).compressed}]"
    if host.endswith("."):
        host = host[:-1]
    if not host or not host.isascii():
        raise ValueError("the host must be an ASCII name (use the xn-- form of international names)")
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("the host is not a valid DNS name")
    if labels[-1].isdigit() or re.fullmatch(r"0x[0-9a-f]*", labels[-1]):
        raise ValueError("the host looks like a numeric address; write IP addresses in dotted form")
    return host


@dataclass(frozen=True)
class HostRule:
    """One allowed host. ``port=None`` means the scheme's default port only."""

    host: str
    label: str
    port: int | None = None
    allow_http: bool = False
    allow_private: bool = False

    def allows_port(self, scheme: str, port: int) -> bool:
        return port == (self.port if self.port is not None else DEFAULT_PORTS[scheme])


@dataclass(frozen=True)
class ServiceUrl:
    """A Kaltura service URL that passed the policy: a canonical origin, with what it may do."""

    scheme: str
    host: str
    port: int
    label: str
    allow_private: bool = False

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, the port only when it is not the scheme's default."""
        if self.port == DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def host_header(self) -> str:
        return self.origin.split("://", 1)[1]

    @property
    def dns_name(self) -> str:
        return self.host.strip("[]")

    def endpoint(self, service: str, action: str | None = None) -> str:
        """``{origin}/api_v3/service/{service}/action/{action}`` (reference §1.1); no action for multirequest."""
        if action is None:
            return f"{self.origin}/api_v3/service/{service}"
        return f"{self.origin}/api_v3/service/{service}/action/{action}"

    def __str__(self) -> str:
        return self.origin


def _parse_entry(entry: str) -> tuple[str | None, str, int | None]:
    """Split an operator entry ``[scheme://]host[:port]`` into (scheme, canonical host, port)."""
    text = entry.strip()
    scheme = None
    if "://" in text:
        scheme, text = text.split("://", 1)
        scheme = scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"{entry!r}: only http:// or https:// may be given")
    text = text.rstrip("/")
    parts = urlsplit(f"//{text}")
    if parts.username is not None or parts.path or parts.query or parts.fragment or not parts.hostname:
        raise ValueError(f"{entry!r} is not a host or host:port")
    host = canonical_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname)
    return scheme, host, parts.port


def _split_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


class OutboundPolicy:
    """The operator's rules for where the portal may connect, and the checks that enforce them."""

    def __init__(self, rules: Iterable[HostRule] = (), *, allow_custom_hosts: bool = False) -> None:
        self._rules: dict[str, list[HostRule]] = {}
        for rule in rules:
            self._rules.setdefault(rule.host, []).append(rule)
        self.allow_custom_hosts = allow_custom_hosts

    @classmethod
    def from_settings(
        cls,
        allowed_hosts: str | Iterable[str] | None = None,
        http_hosts: str | Iterable[str] | None = None,
        private_hosts: str | Iterable[str] | None = None,
        *,
        allow_custom_hosts: bool = False,
    ) -> OutboundPolicy:
        """Build the policy from the operator's settings (comma-separated strings or lists).

        * ``allowed_hosts``: ``host``, ``host:port`` or ``https://host[:port]`` entries. ``None``
          means the Kaltura SaaS regions; the word ``saas`` inside the list includes them too.
        * ``http_hosts``: hosts (``host`` or ``host:port``) that may use plain ``http``, e.g.
          the sandbox at ``127.0.0.1:8765`` in development. They are allowed implicitly.
        * ``private_hosts``: host names that may resolve to private or loopback addresses (a
          self-hosted Kaltura inside the network). They are allowed implicitly. A literal IP
          address the operator lists (in any of the three) is trusted as that address.
        * ``allow_custom_hosts``: admins may also type any other public ``https`` host on the
          default port; it must still resolve to public addresses only.

        Raises ``ValueError`` naming the bad entry.
        """
        entries = _split_list(allowed_hosts) if allowed_hosts is not None else ["saas"]
        rules: list[HostRule] = []
        private = {_parse_entry(item)[1] for item in _split_list(private_hosts)}
        for entry in entries:
            if entry.lower() == "saas":
                rules += [HostRule(region.host, region.label) for region in SAAS_REGIONS]
                continue
            scheme, host, port = _parse_entry(entry)
            rules.append(_rule(host, port, http=scheme == "http", private=host in private))
        for entry in _split_list(http_hosts):
            _, host, port = _parse_entry(entry)
            rules.append(_rule(host, port, http=True, private=host in private))
        for host in private - {rule.host for rule in rules}:
            rules.append(_rule(host, None, http=False, private=True))
        return cls(rules, allow_custom_hosts=allow_custom_hosts)

    @property
    def rules(self) -> tuple[HostRule, ...]:
        return tuple(rule for group in self._rules.values() for rule in group)

    def choices(self) -> list[tuple[str, str]]:
        """``(url, label)`` pairs for the service-URL select box, in the operator's order."""
        seen: dict[str, str] = {}
        for rule in self.rules:
            scheme = "http" if rule.allow_http else "https"
            url = ServiceUrl(scheme, rule.host, rule.port or DEFAULT_PORTS[scheme], rule.label).origin
            seen.setdefault(url, rule.label)
        return list(seen.items())

    def check_url(self, raw: str) -> ServiceUrl:
        """Validate a service URL as an admin entered it; return it canonicalised.

        Accepts an origin with an optional ``/`` or ``/api_v3`` path. Raises
        :class:`OutboundBlocked` with a specific reason and fix otherwise. Makes no network call.
        """
        return self._check(raw, request_path=False)

    def check_request_url(self, url: str) -> ServiceUrl:
        """The same policy for a full request URL (any path under the origin, still no query)."""
        return self._check(url, request_path=True)

    def _check(self, raw: Any, *, request_path: bool) -> ServiceUrl:
        try:
            return self._check_url(raw, request_path=request_path)
        except OutboundBlocked as error:
            host = _host_of(raw)
            logger.warning("outbound blocked: stage=policy host=%s reason=%s", host, error.reason)
            blocked.send(self, stage="policy", host=host, reason=error.reason)
            raise

    def _check_url(self, raw: Any, *, request_path: bool) -> ServiceUrl:
        parts = _split_url(raw, MAX_REQUEST_URL_LENGTH if request_path else MAX_URL_LENGTH)
        scheme = parts.scheme.lower()
        if "@" in parts.netloc:
            raise OutboundBlocked(
                "userinfo",
                "The service URL must not contain a user name or password (the part before @).",
                "remove everything between https:// and @",
            )
        if parts.query or parts.fragment or "?" in raw or "#" in raw:
            raise OutboundBlocked("query", "The service URL must not have a query (?) or fragment (#).", "remove it")
        if not request_path and parts.path not in _ALLOWED_PATHS:
            raise OutboundBlocked(
                "path",
                "The service URL is the server's address only, such as https://www.kaltura.com.",
                "remove the path after the host name",
            )
        host, port = _host_and_port(parts, scheme)
        rule = self._rule_for(host, scheme, port)
        return ServiceUrl(scheme, host, port, rule.label, rule.allow_private)

    def _rule_for(self, host: str, scheme: str, port: int) -> HostRule:
        rules = self._rules.get(host, [])
        if not rules:
            if self.allow_custom_hosts and not _is_ip_literal(host) and scheme == "https" and port == 443:
                return HostRule(host, host)
            raise OutboundBlocked(
                "host_not_allowed", f"{host} is not one of the Kaltura hosts this portal may connect to."
            )
        for rule in rules:
            if rule.allows_port(scheme, port) and (scheme == "https" or rule.allow_http):
                return rule
        if scheme == "http" and not any(rule.allow_http for rule in rules):
            raise OutboundBlocked("scheme", f"Plain http is not allowed for {host}.", "use https://")
        raise OutboundBlocked(
            "port", f"Port {port} is not allowed for {host}.", "remove the port number to use the default port"
        )

    def resolve(self, target: ServiceUrl) -> str:
        """Look ``target`` up and return the address to connect to, after checking every answer.

        Raises :class:`OutboundBlocked` if any address is not public (unless the operator allowed
        the host), and :class:`KalturaUnavailable` if the name does not resolve.
        """
        try:
            infos = socket.getaddrinfo(target.dns_name, target.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise KalturaUnavailable("connect", f"could not resolve {target.host}") from error
        addresses = _unique_addresses(infos)
        if not addresses:
            raise KalturaUnavailable("connect", f"{target.host} has no usable address")
        if not target.allow_private:
            for address in addresses:
                if not is_public_address(address):
                    logger.warning(
                        "outbound blocked: stage=address host=%s address=%s reason=private_address",
                        target.host,
                        address,
                    )
                    blocked.send(
                        self, stage="address", host=target.host, reason="private_address", address=str(address)
                    )
                    raise OutboundBlocked(
                        "private_address",
                        f"{target.host} resolves to an address the portal may not connect to "
                        "(private, loopback, link-local or reserved).",
                        "use a public Kaltura host, or ask the operator to allow this host",
                    )
        usable = [a for a in addresses if a.version == 4 or HAS_IPV6]
        if not usable:
            raise KalturaUnavailable("connect", f"{target.host} has only IPv6 addresses and IPv6 is unavailable")
        return str(usable[0])

    def new_session(self, pool_maxsize: int = 10) -> requests.Session:
        """A :class:`requests.Session` whose every request goes through this policy.

        It ignores proxy and ``.netrc`` settings from the environment (they would bypass the
        address checks or add credentials) and never follows a redirect: a 3xx answer comes back
        as it is, for the caller to refuse.
        """
        session = _NoRedirectSession()
        session.trust_env = False
        # One session serves every hub: never keep cookies one Kaltura account set for the next call.
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = PinnedAdapter(self, pool_maxsize=pool_maxsize)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


class _NoRedirectSession(requests.Session):
    """A session that sees no redirect target in any answer.

    Even with ``allow_redirects=False``, requests reads a 3xx body in full to prepare
    ``Response.next``; with no target it never does, so the size cap also holds for redirects.
    """

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


def _rule(host: str, port: int | None, *, http: bool, private: bool) -> HostRule:
    # An IP literal named by the operator is trusted as exactly that address: there is no DNS
    # answer that could change, and e.g. the development sandbox lives on 127.0.0.1.
    return HostRule(host, host if port is None else f"{host}:{port}", port, http, private or _is_ip_literal(host))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _host_of(raw: Any) -> str:
    """The host part of a refused URL, for the log and the audit trail (best effort, kept short)."""
    if not isinstance(raw, str):
        return "?"
    try:
        host = urlsplit(raw[:2048]).hostname or ""
    except ValueError:
        host = ""
    host = "".join(char for char in host if char.isprintable())
    return (host or "?")[:255]


def _split_url(raw: Any, limit: int) -> SplitResult:
    if not isinstance(raw, str) or not raw:
        raise OutboundBlocked("malformed", "Enter the service URL, for example https://www.kaltura.com.")
    if len(raw) > limit:
        raise OutboundBlocked(
            "too_long",
            f"The service URL has {len(raw):,} characters; a Kaltura service URL is only the server's address, "
            f"such as https://www.kaltura.com, and at most {limit} characters.",
            "remove everything after the host name",
        )
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in raw):
        raise OutboundBlocked(
            "malformed", "The service URL must not contain spaces, control characters or backslashes."
        )
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as error:
        raise OutboundBlocked("malformed", "The service URL is not a valid URL.") from error
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise OutboundBlocked("scheme", "The service URL must start with https://.", "use https://")
    if "://" not in raw or not parts.netloc:
        raise OutboundBlocked("malformed", "The service URL must be a full address such as https://www.kaltura.com.")
    return parts


def _host_and_port(parts: SplitResult, scheme: str) -> tuple[str, int]:
    hostport = parts.netloc
    raw_host = hostport
    if hostport.startswith("["):
        raw_host = hostport[: hostport.find("]") + 1]
    elif ":" in hostport:
        raw_host = hostport.rsplit(":", 1)[0]
    try:
        host = canonical_host(raw_host)
    except ValueError as error:
        raise OutboundBlocked("host_invalid", f"The service URL's host is not valid: {error}.") from error
    port = parts.port if parts.port is not None else DEFAULT_PORTS[scheme]
    return host, port


def _unique_addresses(infos: Iterable[tuple[Any, ...]]) -> list[IPAddress]:
    found: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class PinnedAdapter(HTTPAdapter):
    """Transport adapter that enforces an :class:`OutboundPolicy` on every request it sends.

    It re-checks the request URL, resolves the host once, checks every address, and connects
    to the checked address (keeping the original name for the ``Host`` header, TLS SNI and
    certificate verification), so a DNS answer that changes after the check is never used.
    """

    def __init__(self, policy: OutboundPolicy, **kwargs: Any) -> None:
        self._policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Connections whose sockets an active Deadline can cut off.
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        target = self._policy.check_request_url(str(request.url))
        address = self._policy.resolve(target)
        # Headers may be shared with the caller; copy before adding Host.
        request.headers = CaseInsensitiveDict(request.headers or {})
        request.headers["Host"] = target.host_header
        if target.scheme == "https":
            pool_kwargs["server_hostname"] = target.dns_name
            pool_kwargs["assert_hostname"] = target.dns_name
        host_params["host"] = f"[{address}]" if ":" in address else address
        host_params["port"] = target.port
        return host_params, pool_kwargs


# --- deadlines ------------------------------------------------------------------------------

_active_deadline: ContextVar[Deadline | None] = ContextVar("portal_outbound_deadline", default=None)


class Deadline:
    """The moment by which one HTTP exchange must be over, connect to last body byte.

    Use it as a context manager around the request: sockets the transport opens or reuses inside
    the block are registered (:func:`_watch`), and a timer shuts them down when the time is up, so
    a blocked read returns at once. ``expired`` then tells the caller why the exchange failed.
    The sockets are only shut down, never closed here: the connection pool still owns them and
    discards them as broken.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._token: Any = None

    def remaining(self) -> float:
        """Seconds left (0 once the deadline has passed)."""
        return max(0.0, self.expires_at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock`` off when the deadline passes (at once if it already has)."""
        with self._lock:
            if self._over:
                return
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Deadline:
        self._token = _active_deadline.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._over = True
            self._sockets.clear()
        _active_deadline.reset(self._token)


def _shut(sock: socket.socket) -> None:
    # OSError: already closed or never connected, so there is nothing left to cut off.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: Any) -> None:
    deadline = _active_deadline.get()
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _WatchedConnection:
    """Registers its socket with the active :class:`Deadline` when it connects and on every reuse.

    TCP connect and the TLS handshake happen before the socket is registered; the caller bounds
    both with the connect timeout (the handshake's total, not per read: CPython applies a socket's
    timeout to the whole ``do_handshake``).
    """

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection
