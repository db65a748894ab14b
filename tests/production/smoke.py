"""CI smoke test of the production profile: ``python -m tests.production.smoke`` (``.ci/run`` runs it).

Two portal instances ("nodes", as behind a load balancer), each gunicorn with two workers and
``PORTAL_ENV=production``, serve TLS with a certificate made here for 127.0.0.1, on one PostgreSQL
database (``portal_smoke``, re-created) and one Redis database (emptied first), against a Kaltura
sandbox. A short scenario goes through them:

1. an admin signs in (the cookie is ``__Host-``, ``Secure``), saves the hub's Kaltura tokens on
   the Kaltura tab and runs its connection test;
2. a participant's picker opens on node A from a launch token; the same token is refused on node B
   (its ``jti`` is shared through the database);
3. a search on node B uses the Kaltura session node A minted (one ``media.list``, no minting:
   shared through Redis, where it is stored encrypted);
4. failed sign-ins alternate between the nodes and the limit holds for their sum (Redis);
5. the logs are JSON lines with request ids and hold no launch token, picker token, KS or App
   Token secret; Redis holds no KS either.

Settings: ``SMOKE_ADMIN_DATABASE_URL`` (a PostgreSQL URL to create the database from; default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), ``SMOKE_DATABASE`` (``portal_smoke``),
``SMOKE_REDIS_URL`` (``redis://127.0.0.1:6379/15``: a database this test may empty).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench import stack
from kaltura_sandbox.testing import SandboxProcess

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
SESSION = re.compile(r'name="kaltura-picker-session" content="([^"]+)"')
ENTRIES = re.compile(r'role="option" id="entry-([^"]+)"')
KALTURA_TAB = "/hubs/northwind/settings/integrations/kaltura"
ADMIN, PASSWORD = "ada@northwind.example", "demo-password"
PARTICIPANT = "pat@northwind.example"
MINTING = ("session.startwidgetsession", "apptoken.startsession")


class SmokeFailure(AssertionError):
    """A step of the scenario did not go as production must."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def step(title: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    def decorate(function: Callable[..., object]) -> Callable[..., object]:
        def run(*args: object, **kwargs: object) -> object:
            started = time.monotonic()
            result = function(*args, **kwargs)
            print(f"  ok  {title} ({time.monotonic() - started:.1f} s)", flush=True)
            return result

        return run

    return decorate


def csrf(web: requests.Session, url: str, verify: str | bool) -> str:
    """The form token of the page at ``url``; the session's next requests come "from" that page
    (``Referer`` and ``Origin``, as a browser sends them: over HTTPS, Flask-WTF wants a same-origin referrer)."""
    page = web.get(url, verify=verify, timeout=30)
    found = CSRF.search(page.text)
    check(found, f"no form token on {url} ({page.status_code})")
    assert found is not None
    web.headers["Referer"] = url
    web.headers["Origin"] = url.split("/", 3)[0] + "//" + url.split("/", 3)[2]
    return found.group(1)


@step("an admin signs in; the session cookie is __Host-, Secure, HttpOnly")
def sign_in(web: requests.Session, node: stack.Gunicorn) -> None:
    token = csrf(web, node.url + "/sign-in", node.verify)
    answer = web.post(
        node.url + "/sign-in",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": token},
        verify=node.verify,
        allow_redirects=False,
        timeout=30,
    )
    check(answer.status_code == 303, f"sign-in answered {answer.status_code}")
    cookies = answer.raw.headers.getlist("Set-Cookie")
    cookie = next((c for c in cookies if c.startswith("__Host-portal_session=")), "")
    check(cookie, f"no __Host-portal_session cookie among {[c.split('=')[0] for c in cookies]}")
    check("Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, "cookie flags missing")


@step("the Kaltura tab saves the tokens (tested first) and its connection test passes")
def kaltura_tab(web: requests.Session, nodes: list[stack.Gunicorn], sandbox: SandboxProcess) -> None:
    form = {
        "service_url": sandbox.url,
        "client_token": json.dumps(sandbox.credentials["clientAppToken"], indent=2),
        "server_token": json.dumps(sandbox.credentials["serverAppToken"], indent=2),
        "user_id_mode": "email",
    }
    a, b = nodes
    saved = web.post(
        a.url + KALTURA_TAB,
        data={**form, "csrf_token": csrf(web, a.url + KALTURA_TAB, a.verify)},
        verify=a.verify,
        allow_redirects=False,
        timeout=90,
    )
    check(saved.status_code == 303, f"saving the Kaltura tab answered {saved.status_code}: {_text(saved)}")
    # The test runs on the other node: the sign-in and the saved tokens are shared state.
    tested = web.post(
        b.url + KALTURA_TAB + "/test",
        data={"csrf_token": csrf(web, b.url + KALTURA_TAB, b.verify)},
        headers={"HX-Request": "true"},
        verify=b.verify,
        timeout=90,
    )
    check(tested.status_code == 200, f"Test connection answered {tested.status_code}: {_text(tested)}")
    rows = re.findall(r'<tr class="check-(\w+)"', tested.text)
    check(rows and "fail" not in rows, f"the connection test's rows are {rows}")
    check("All checks passed." in tested.text or "with a warning" in tested.text, "the connection test did not pass")


@step("a launch opens the picker on node A; the same launch token is refused on node B")
def launch_once(nodes: list[stack.Gunicorn], secret: str, sandbox: SandboxProcess) -> str:
    a, b = nodes
    token = stack.launch_token(secret, PARTICIPANT)
    sandbox.control("calls/reset")
    opened = requests.post(
        a.url + "/embed/picker",
        data={"launch_token": token},
        headers={"Origin": stack.HOST_ORIGIN},
        verify=a.verify,
        timeout=60,
    )
    check(opened.status_code == 200, f"the launch answered {opened.status_code}: {_text(opened)}")
    check(len(ENTRIES.findall(opened.text)) == 24, "the picker's first page does not show 24 entries")
    check("Set-Cookie" not in opened.headers, "the picker set a cookie")
    calls = sandbox.calls()
    minted = sum(calls.get(action, 0) for action in MINTING)
    # The member's first use links them to their Kaltura user (a server-token session and one
    # user.list); listing takes a client-token session: two sessions, 2 calls each, nothing more.
    check(calls.get("user.list") == 1, f"the first use should look the member up once, not {calls.get('user.list')}")
    check(minted == 4, f"the cold open should mint two sessions (4 calls), not {minted} calls")
    replayed = requests.post(
        b.url + "/embed/picker",
        data={"launch_token": token},
        headers={"Origin": stack.HOST_ORIGIN},
        verify=b.verify,
        timeout=60,
    )
    check(replayed.status_code == 401, f"the replayed launch answered {replayed.status_code}")
    check('data-category="already_used"' in replayed.text, "the replay was not refused as already used")
    found = SESSION.search(opened.text)
    assert found is not None
    return found.group(1)


@step("a search on node B uses the session node A minted: one media.list, no minting")
def search_elsewhere(nodes: list[stack.Gunicorn], bearer: str, sandbox: SandboxProcess) -> None:
    b = nodes[1]
    headers = {"Authorization": f"Bearer {bearer}", "HX-Request": "true"}
    for query in ("drone", "harbour dro", "town hall"):
        sandbox.control("calls/reset")
        answer = requests.get(
            b.url + "/embed/picker/media", params={"q": query}, headers=headers, verify=b.verify, timeout=60
        )
        check(answer.status_code == 200, f"the search answered {answer.status_code}: {_text(answer)}")
        check('data-problem="' not in answer.text, f"the search for {query!r} shows an error state")
        calls = sandbox.calls()
        check(calls == {"media.list": 1}, f"a search on node B cost {calls}, not one media.list")
    refused = requests.get(
        b.url + "/embed/picker/media", params={"q": "drone", "access_token": bearer}, verify=b.verify, timeout=30
    )
    check(refused.status_code == 401, "a picker token in the query string was accepted")


@step("failed sign-ins count across nodes and workers: the 6th of 5 allowed is refused")
def rate_limits(nodes: list[stack.Gunicorn]) -> None:
    email = f"nobody-{os.urandom(4).hex()}@example.com"
    statuses = []
    for attempt in range(6):
        node = nodes[attempt % 2]
        web = requests.Session()
        token = csrf(web, node.url + "/sign-in", node.verify)
        answer = web.post(
            node.url + "/sign-in",
            data={"email": email, "password": "not-the-password", "csrf_token": token},
            verify=node.verify,
            timeout=30,
        )
        statuses.append(answer.status_code)
    check(statuses == [422] * 5 + [429], f"sign-in attempts answered {statuses}, not five 422s then 429")


@step("logs are JSON lines with request ids, and neither logs nor Redis hold a secret")
def no_secrets(nodes: list[stack.Gunicorn], secrets_seen: list[str], redis_url: str, sandbox: SandboxProcess) -> None:
    import redis

    for node in nodes:
        lines = [line for line in node.log_text().splitlines() if line.strip()]
        check(lines, "a node wrote no log")
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                raise SmokeFailure(f"a log line is not JSON: {line[:200]!r}") from None
            if record.get("logger") == "gunicorn.access":
                check(record.get("request_id"), f"an access line has no request id: {line[:200]}")
                check("?" not in str(record.get("path")), "an access line has a query string")
        text = node.log_text()
        for secret in secrets_seen:
            check(secret not in text, "a secret (launch token, picker token or App Token) is in a log")
        check("djJ8" not in text, "a KS is in a log")
    client = redis.Redis.from_url(redis_url)
    values = [client.get(key) or b"" for key in client.scan_iter(match="portal:kaltura:ks:*")]
    check(values, "no Kaltura session was shared through Redis")
    for value in values:
        check(b"djJ8" not in value, "Redis holds a KS in clear")
        for secret in secrets_seen:
            check(secret.encode() not in value, "Redis holds a secret in clear")


def _text(answer: requests.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text))[:600]


def main() -> int:
    import redis

    started = time.monotonic()
    admin_url = os.environ.get("SMOKE_ADMIN_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis.Redis.from_url(redis_url).flushdb()  # its own database: earlier runs' counters must not count
    database = stack.create_postgres_database(admin_url, os.environ.get("SMOKE_DATABASE", "portal_smoke"))
    workdir = Path(tempfile.mkdtemp(prefix="portal-smoke-"))
    tls = stack.self_signed(workdir)
    nodes: list[stack.Gunicorn] = []
    print("Production smoke test: 2 nodes x 2 gunicorn workers, TLS, PostgreSQL, Redis, Kaltura sandbox")
    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        env = stack.portal_env(database, sandbox_url=sandbox.url, workdir=workdir, redis_url=redis_url)
        secret = stack.prepare(env, sandbox, connect=False)
        try:
            for _ in range(2):
                nodes.append(stack.Gunicorn(env, workers=2, tls=tls).start())
            web = requests.Session()
            sign_in(web, nodes[0])
            kaltura_tab(web, nodes, sandbox)
            bearer = launch_once(nodes, secret, sandbox)
            search_elsewhere(nodes, bearer, sandbox)
            rate_limits(nodes)
            app_secrets = [sandbox.credentials[name]["token"] for name in ("clientAppToken", "serverAppToken")]
            no_secrets(nodes, [bearer, secret, *app_secrets], redis_url, sandbox)
        except SmokeFailure as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            for node in nodes:
                print(f"--- {node.url} log (last lines)\n{node.log_text()[-3000:]}", file=sys.stderr)
            return 1
        finally:
            for node in nodes:
                node.stop()
    print(f"Production smoke test passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
