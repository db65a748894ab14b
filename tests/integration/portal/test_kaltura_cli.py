"""`portal kaltura ...` against the sandbox: validate, connect, check, rotate keys."""

from __future__ import annotations

import base64
import json
import os

import sqlalchemy as sa

from portal import create_app
from portal.models import Hub, KalturaConnection


def _files(tmp_path, sandbox, client="clientAppToken", server="serverAppToken"):
    paths = []
    for name, key in (("client.json", client), ("server.json", server)):
        path = tmp_path / name
        path.write_text("\ufeffResponse body\n" + json.dumps(sandbox.credentials[key], indent=2))
        paths.append(str(path))
    return paths


def test_validate_tokens_prints_findings_and_exit_code(app, tmp_path, sandbox):
    runner = app.test_cli_runner()
    good = runner.invoke(args=["kaltura", "validate-tokens", *_files(tmp_path, sandbox), "--json"])
    assert good.exit_code == 0, good.output
    findings = json.loads(good.output)["findings"]
    assert {f["level"] for f in findings} == {"ok"} and {f["code"] for f in findings} >= {
        "client_token_ok",
        "server_token_ok",
    }
    swapped = runner.invoke(
        args=["kaltura", "validate-tokens", *_files(tmp_path, sandbox, "serverAppToken", "clientAppToken")]
    )
    assert swapped.exit_code == 1
    assert "tokens_swapped" in swapped.output and "each other's fields" in swapped.output
    secret = sandbox.credentials["clientAppToken"]["token"]
    assert secret not in good.output + swapped.output


def test_connect_then_check_a_saved_hub(app, db, demo, tmp_path, sandbox):
    runner = app.test_cli_runner()
    connected = runner.invoke(args=["kaltura", "connect", "northwind", sandbox.url, *_files(tmp_path, sandbox)])
    assert connected.exit_code == 0, connected.output
    checked = runner.invoke(args=["kaltura", "check", "northwind", "--json"])
    assert checked.exit_code == 0, checked.output
    rows = json.loads(checked.output)["findings"]
    assert rows and all(row["level"] in ("ok", "warning") for row in rows)
    assert {"client_session", "server_session"} <= {row["code"] for row in rows}
    sandbox.control("fault", action="session.startWidgetSession", count=50, kind="http_503")
    failing = runner.invoke(args=["kaltura", "check", "northwind"])
    assert failing.exit_code == 1 and "error" in failing.output


def test_check_explains_a_hub_without_connection(app, demo):
    result = app.test_cli_runner().invoke(args=["kaltura", "check", "riverside"])
    assert result.exit_code != 0 and "no Kaltura connection" in result.output


def test_connect_refuses_a_free_hub_and_saves_nothing(app, db, demo, tmp_path, sandbox):
    result = app.test_cli_runner().invoke(
        args=["kaltura", "connect", "riverside", sandbox.url, *_files(tmp_path, sandbox)]
    )
    assert result.exit_code != 0 and "paid plan" in result.output
    assert db.scalar(sa.select(sa.func.count()).select_from(KalturaConnection)) == 0


def test_rotate_keys_then_drop_the_old_key(app, db, demo, tmp_path, sandbox, database_url):
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["kaltura", "connect", "northwind", sandbox.url, *_files(tmp_path, sandbox)]).exit_code == 0
    )
    old = app.config["ENCRYPTION_KEYS"]
    new = "k2:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    both = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "b"),
            "DATABASE_URL": database_url,
            "ENCRYPTION_KEYS": f"{new},{old}",
            "KALTURA_SANDBOX_URL": sandbox.url,
        }
    )
    first = both.test_cli_runner().invoke(args=["kaltura", "rotate-keys"])
    assert first.exit_code == 0 and "Re-encrypted 2 token(s); 0 already" in first.output
    again = both.test_cli_runner().invoke(args=["kaltura", "rotate-keys"])
    assert "Re-encrypted 0 token(s); 2 already" in again.output
    db.expire_all()
    connection = db.scalar(sa.select(KalturaConnection).join(Hub).where(Hub.slug == "northwind"))
    assert connection.client_token_sealed.startswith("v1:k2:")
    from portal.models import AuditEvent

    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kaltura.rotate_key"))
    assert event.details == {"slots": ["client", "server"], "key_id": "k2"}
    only_new = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "c"),
            "DATABASE_URL": database_url,
            "ENCRYPTION_KEYS": new,
            "KALTURA_SANDBOX_URL": sandbox.url,
        }
    )
    checked = only_new.test_cli_runner().invoke(args=["kaltura", "check", "northwind"])
    assert checked.exit_code == 0, checked.output
    for made in (both, only_new):
        made.extensions["kaltura"].close()
        made.extensions["db"].kw["bind"].dispose()
