"""Outbound safety (issue 4, item 2; reference/security.md §2.1).

Every SSRF payload is sent through the real client, and each test proves that nothing left the
process: the resolver saw no lookup (URL-level refusals) or the lookup happened but no socket
connected (address-level refusals), and the local server accepted no connection. Positive
controls show that the same setup does connect when the policy allows it, so the assertions
could fail.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from portal.kaltura.client import KalturaClient
from portal.kaltura.errors import KalturaUnavailable, OutboundBlocked
from portal.kaltura.outbound import SAAS_REGIONS, OutboundPolicy, canonical_host, is_public_address
from tests.unit.kaltura.conftest import FakeDns
from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply, json_reply

SAAS = OutboundPolicy.from_settings()

URL_PAYLOADS = {
    "plain-http": ("http://www.kaltura.com", "scheme"),
    "ftp-scheme": ("ftp://www.kaltura.com", "scheme"),
    "file-scheme": ("file:///etc/passwd", "scheme"),
    "gopher-scheme": ("gopher://www.kaltura.com:70/_x", "scheme"),
    "loopback-ipv4": ("https://127.0.0.1", "host_not_allowed"),
    "loopback-ipv4-trailing-dot": ("https://127.0.0.1.", "host_not_allowed"),
    "loopback-ipv6": ("https://[::1]", "host_not_allowed"),
    "unspecified": ("https://0.0.0.0", "host_not_allowed"),
    "metadata": ("https://169.254.169.254/", "host_not_allowed"),
    "metadata-path": ("https://169.254.169.254/latest/meta-data/", "path"),
    "decimal-ip": ("https://2130706433", "host_invalid"),
    "hex-ip": ("https://0x7f000001", "host_invalid"),
    "dotted-hex-ip": ("https://0x7f.0.0.1", "host_invalid"),
    "octal-ip": ("https://017700000001", "host_invalid"),
    "short-ip": ("https://127.1", "host_invalid"),
    "ipv4-mapped-ipv6": ("https://[::ffff:127.0.0.1]", "host_not_allowed"),
    "ipv4-mapped-ipv6-hex": ("https://[::ffff:7f00:1]", "host_not_allowed"),
    "ipv6-zone": ("https://[fe80::1%25eth0]", "host_invalid"),
    "userinfo": ("https://www.kaltura.com@evil.test", "userinfo"),
    "userinfo-password": ("https://user:pass@www.kaltura.com", "userinfo"),
    "suffix-domain": ("https://www.kaltura.com.evil.test", "host_not_allowed"),
    "prefix-domain": ("https://evilwww.kaltura.com", "host_not_allowed"),
    "other-host-trailing-dot": ("https://evil.test.", "host_not_allowed"),
    "non-default-port": ("https://www.kaltura.com:8443", "port"),
    "http-port-on-https": ("https://www.kaltura.com:80", "port"),
    "query": ("https://www.kaltura.com/?x=1", "query"),
    "empty-query": ("https://www.kaltura.com?", "query"),
    "fragment": ("https://www.kaltura.com/#frag", "query"),
    "backslash": ("https://www.kaltura.com\\@evil.test", "malformed"),
    "whitespace": ("https://www.kaltura.com /", "malformed"),
    "crlf": ("https://www.kaltura.com\r\nHost: evil", "malformed"),
    "unicode-dot": ("https://www.kaltura\u3002com", "host_invalid"),
    "percent-host": ("https://www%2ekaltura.com", "host_invalid"),
    "no-host": ("https://", "malformed"),
    "bad-port": ("https://www.kaltura.com:99999", "malformed"),
    "relative": ("www.kaltura.com", "scheme"),
}


@pytest.mark.parametrize(("url", "reason"), URL_PAYLOADS.values(), ids=URL_PAYLOADS.keys())
def test_ssrf_urls_are_refused_by_the_policy(url: str, reason: str) -> None:
    with pytest.raises(OutboundBlocked) as refused:
        SAAS.check_url(url)

    assert refused.value.reason == reason
    assert "What to do:" in refused.value.explain()


@pytest.mark.parametrize(("url", "reason"), URL_PAYLOADS.values(), ids=URL_PAYLOADS.keys())
def test_ssrf_urls_never_reach_dns_or_a_socket(url: str, reason: str, dns: FakeDns, connects: list) -> None:
    with KalturaClient(SAAS) as client, pytest.raises(OutboundBlocked) as refused:
        client.call(url, "system", "ping")

    assert refused.value.reason == reason
    assert dns.lookups == []
    assert connects == []


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.kaltura.com", "https://www.kaltura.com"),
        ("https://WWW.Kaltura.COM", "https://www.kaltura.com"),
        ("https://www.kaltura.com.", "https://www.kaltura.com"),
        ("https://www.kaltura.com:443/", "https://www.kaltura.com"),
        ("HTTPS://api.eu.kaltura.com/api_v3", "https://api.eu.kaltura.com"),
        ("https://api.ca.kaltura.com/api_v3/", "https://api.ca.kaltura.com"),
    ],
)
def test_allowed_urls_are_canonicalised(url: str, canonical: str) -> None:
    assert SAAS.check_url(url).origin == canonical


def test_the_saas_regions_are_the_default_choices_with_labels() -> None:
    choices = SAAS.choices()

    assert choices[0] == ("https://www.kaltura.com", "United States (default)")
    assert [url for url, _ in choices] == [region.url for region in SAAS_REGIONS]
    assert all(label for _, label in choices)


def test_operator_settings_allow_http_ports_and_private_hosts() -> None:
    policy = OutboundPolicy.from_settings(
        allowed_hosts="saas, kaltura.example.edu",
        http_hosts="127.0.0.1:8765",
        private_hosts="kaltura.internal",
    )

    sandbox = policy.check_url("http://127.0.0.1:8765")
    assert sandbox.origin == "http://127.0.0.1:8765" and sandbox.allow_private
    assert policy.check_url("https://kaltura.example.edu").allow_private is False
    assert policy.check_url("https://kaltura.internal").allow_private is True
    assert policy.check_url("https://www.kaltura.com").origin == "https://www.kaltura.com"
    with pytest.raises(OutboundBlocked, match="Port 8766"):
        policy.check_url("http://127.0.0.1:8766")
    with pytest.raises(OutboundBlocked) as refused:
        policy.check_url("http://kaltura.example.edu")
    assert refused.value.reason == "scheme"
    assert ("http://127.0.0.1:8765", "127.0.0.1:8765") in policy.choices()


def test_an_explicit_allow_list_replaces_the_saas_regions() -> None:
    policy = OutboundPolicy.from_settings(allowed_hosts="https://kaltura.example.edu:8443")

    assert policy.check_url("https://kaltura.example.edu:8443").port == 8443
    with pytest.raises(OutboundBlocked):
        policy.check_url("https://www.kaltura.com")


@pytest.mark.parametrize("entry", ["ftp://host", "host/path", "user@host", "exa mple.com", "2130706433"])
def test_bad_operator_entries_are_configuration_errors(entry: str) -> None:
    with pytest.raises(ValueError):
        OutboundPolicy.from_settings(allowed_hosts=entry)


def test_custom_hosts_when_the_operator_allows_them_are_https_default_port_names_only() -> None:
    policy = OutboundPolicy.from_settings(allow_custom_hosts=True)

    assert policy.check_url("https://videos.example.org").allow_private is False
    for url in ("http://videos.example.org", "https://videos.example.org:8443", "https://10.0.0.5"):
        with pytest.raises(OutboundBlocked):
            policy.check_url(url)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("198.18.0.1", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::a00:1", False),
        ("2002:7f00:1::", False),
        ("2001:0:7f00:1::", False),
        ("fec0::1", False),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("raw", ["a..b", "-a.com", "a-.com", "a_b.com", "é.com", "a" * 64 + ".com", "1.2.3", ""])
def test_invalid_host_names(raw: str) -> None:
    with pytest.raises(ValueError):
        canonical_host(raw)


# --- address checks at connection time ---------------------------------------------------------

PRIVATE_ANSWERS = {
    "loopback": ["127.0.0.1"],
    "private-10": ["10.0.0.5"],
    "metadata": ["169.254.169.254"],
    "ipv6-loopback": ["::1"],
    "ipv4-mapped": ["::ffff:127.0.0.1"],
    "unique-local": ["fd00::1"],
    "unspecified": ["0.0.0.0"],
    "mixed-public-first": ["93.184.215.14", "10.0.0.5"],
    "mixed-private-last-ipv6": ["93.184.215.14", "fe80::1"],
}


@pytest.mark.parametrize("answer", PRIVATE_ANSWERS.values(), ids=PRIVATE_ANSWERS.keys())
def test_an_allowed_host_resolving_to_a_non_public_address_is_refused_before_connecting(
    answer: list[str], fake: FakeKaltura, dns: FakeDns, connects: list
) -> None:
    # The operator allowed this name (plain http on the fake server's port) but not private addresses.
    dns.answers["kaltura.example.test"] = answer
    policy = OutboundPolicy.from_settings(allowed_hosts=[], http_hosts=[f"kaltura.example.test:{fake.port}"])

    with KalturaClient(policy) as client, pytest.raises(OutboundBlocked) as refused:
        client.call(f"http://kaltura.example.test:{fake.port}", "system", "ping")

    assert refused.value.reason == "private_address"
    assert dns.lookups == ["kaltura.example.test"]
    assert connects == []
    assert fake.connections == 0


def test_saas_host_resolving_to_loopback_is_refused(dns: FakeDns, connects: list) -> None:
    dns.answers["www.kaltura.com"] = ["127.0.0.1"]

    with KalturaClient(SAAS) as client, pytest.raises(OutboundBlocked) as refused:
        client.call("https://www.kaltura.com", "system", "ping")

    assert refused.value.reason == "private_address"
    assert "127.0.0.1" not in refused.value.explain()  # no internal-network oracle in the UI message
    assert connects == []


def test_the_same_host_connects_when_the_operator_allows_private_addresses(
    fake: FakeKaltura, dns: FakeDns, connects: list
) -> None:
    # Positive control for the test above: only the private_hosts setting differs.
    dns.answers["kaltura.example.test"] = ["127.0.0.1"]
    fake.queue(json_reply(True))
    policy = OutboundPolicy.from_settings(
        allowed_hosts=[], http_hosts=[f"kaltura.example.test:{fake.port}"], private_hosts="kaltura.example.test"
    )

    with KalturaClient(policy) as client:
        assert client.call(f"http://kaltura.example.test:{fake.port}", "system", "ping") is True

    assert fake.connections == 1
    assert connects == [("127.0.0.1", fake.port)]
    assert fake.requests[0].headers["Host"] == f"kaltura.example.test:{fake.port}"


def test_the_connection_uses_the_checked_address_not_a_second_dns_answer(
    fake: FakeKaltura, dns: FakeDns, connects: list
) -> None:
    # DNS rebinding: the first answer is public, every later one points at the local server.
    answers = iter([["93.184.215.14"]])
    dns.answers["rebind.example.test"] = lambda: next(answers, ["127.0.0.1"])
    fake.queue(json_reply(True))
    policy = OutboundPolicy.from_settings(allowed_hosts=[], http_hosts=[f"rebind.example.test:{fake.port}"])

    with KalturaClient(policy) as client, pytest.raises(KalturaUnavailable) as failed:
        client.call(f"http://rebind.example.test:{fake.port}", "system", "ping", retry=False)

    assert failed.value.reason == "connect"
    assert dns.lookups.count("rebind.example.test") == 1
    assert connects == [("93.184.215.14", fake.port)]  # refused by the test guard, nothing sent
    assert fake.connections == 0


def test_every_request_is_resolved_and_checked_while_the_connection_is_pooled(
    fake: FakeKaltura, dns: FakeDns, connects: list
) -> None:
    dns.answers["pool.example.test"] = ["127.0.0.1"]
    fake.queue(json_reply(True), json_reply(True), json_reply(True))
    policy = OutboundPolicy.from_settings(
        allowed_hosts=[], http_hosts=[f"pool.example.test:{fake.port}"], private_hosts="pool.example.test"
    )

    with KalturaClient(policy) as client:
        for _ in range(3):
            client.call(f"http://pool.example.test:{fake.port}", "system", "ping")

    assert dns.lookups.count("pool.example.test") == 3
    assert fake.connections == 1
    assert len(fake.requests) == 3


def test_unresolvable_host_is_unavailable_not_blocked(dns: FakeDns, connects: list) -> None:
    with KalturaClient(SAAS) as client, pytest.raises(KalturaUnavailable) as failed:
        client.call("https://api.eu.kaltura.com", "system", "ping", retry=False)

    assert failed.value.reason == "connect"
    assert connects == []


# --- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_an_internal_address_is_not_followed(
    status: int, make_client: Callable[..., KalturaClient], fake: FakeKaltura, connects: list
) -> None:
    fake.queue(Reply(status=status, body=b"", headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    client = make_client()

    with pytest.raises(OutboundBlocked) as refused:
        client.call(fake.url, "media", "list")

    assert refused.value.reason == "redirect"
    assert len(fake.requests) == 1
    assert {host for host, _ in connects} == {"127.0.0.1"}


def test_environment_proxies_are_ignored(
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., KalturaClient], fake: FakeKaltura, connects: list
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("NO_PROXY", "")
    fake.queue(json_reply(True))

    assert make_client().call(fake.url, "system", "ping") is True
    assert connects == [("127.0.0.1", fake.port)]


def test_cookies_set_by_one_answer_are_not_sent_with_the_next_call(
    make_client: Callable[..., KalturaClient], fake: FakeKaltura
) -> None:
    # One pooled session serves every hub: a cookie from one Kaltura account must not travel on.
    set_cookie = {"Content-Type": "application/json", "Set-Cookie": "lb=hub-a; Path=/"}
    fake.queue(Reply(body=b"true", headers=set_cookie), json_reply(True))
    client = make_client()

    client.call(fake.url, "system", "ping")
    client.call(fake.url, "system", "ping")

    assert "Cookie" not in fake.requests[1].headers
