"""The `portal` command: users, hubs, memberships, plans and the idempotent demo seed."""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import Hub, Membership, User
from tests.helpers import snapshot


def test_create_user_hub_member_and_plan(app, db):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "Lee@Example.org", "--name", "Lee", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-hub", "film-club", "Film Club", "--plan", "pro"])
    assert result.exit_code == 0 and "Created hub film-club (Pro)." in result.output
    result = runner.invoke(args=["add-member", "film-club", "lee@example.org", "--role", "admin"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["set-plan", "film-club", "enterprise"])
    assert result.exit_code == 0
    hub = db.scalar(sa.select(Hub).where(Hub.slug == "film-club"))
    assert hub.plan.value == "enterprise"
    member = db.scalar(sa.select(Membership).join(User).where(User.email == "lee@example.org"))
    assert member.hub_id == hub.id and member.role.value == "admin"


def test_cli_errors_are_clear_and_exit_nonzero(app, db, demo):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    cases = [
        (["create-user", "ada@northwind.example", "--password", "long-enough-pw"], "already exists"),
        (["create-user", "new@example.org", "--password", "short"], "at least 10 characters"),
        (["create-hub", "Bad Slug", "X Hub"], "lower-case letters"),
        (["create-hub", "northwind", "Again"], "is taken"),
        (["add-member", "nowhere", "ada@northwind.example"], "No hub has the slug 'nowhere'"),
        (["add-member", "northwind", "pat@northwind.example"], "already a member"),
    ]
    before = snapshot(db)
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert snapshot(db) == before


def test_seed_demo_is_idempotent(app, db):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "created" in first.output
    assert "ada@northwind.example" in first.output and "demo-password" in first.output
    after_first = snapshot(db)
    second = runner.invoke(args=["seed-demo"])
    assert "already in place" in second.output
    assert snapshot(db) == after_first
    assert {h.slug: h.plan.value for h in db.scalars(sa.select(Hub))} == {
        "northwind": "pro",
        "riverside": "free",
        "harbour": "pro",
    }
    assert db.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_support)) == 1


def test_create_user_refuses_control_characters_in_the_name(app, db):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(
        args=["create-user", "zed@example.org", "--name", "Zed\x1b[31m", "--password", "long-enough-pw"],
    )
    assert result.exit_code != 0
    assert "invisible control character (U+001B)" in result.output
