"""Helpers the identity tests share: connecting a hub with a chosen server token, asking the sandbox
directly (as a Kaltura admin, or as a member uploading), and reading links."""

from __future__ import annotations

from typing import Any

import requests
import sqlalchemy as sa

from portal.accounts.services import create_user
from portal.hubs.services import add_member, create_hub
from portal.models import Hub, KalturaIdentity, Plan, Role, User
from tests.picker_support import connect  # noqa: F401  (the identity tests connect hubs the same way)


def hub(db, slug: str = "northwind") -> Hub:  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(Hub).where(Hub.slug == slug))


def user(db, email: str) -> User:  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(User).where(User.email == email))


def link(db, slug: str, email: str) -> KalturaIdentity | None:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(
        sa.select(KalturaIdentity)
        .join(Hub)
        .join(User, User.id == KalturaIdentity.user_id)
        .where(Hub.slug == slug, User.email == email)
    )


def new_member(db, slug: str, email: str, name: str, role: Role = Role.PARTICIPANT) -> User:  # type: ignore[no-untyped-def]
    account = create_user(db, email=email, display_name=name, password="demo-password")
    add_member(db, hub=hub(db, slug), email=email, role=role, actor=None)
    return account


def paid_hub(db, slug: str, name: str) -> Hub:  # type: ignore[no-untyped-def]
    return create_hub(db, name=name, slug=slug, plan=Plan.PRO)


def kaltura_api(sandbox, service: str, action: str, **params: Any) -> Any:  # type: ignore[no-untyped-def]
    """Call the sandbox directly (JSON format); the answer, API errors included."""
    return requests.post(
        f"{sandbox.url}/api_v3/service/{service}/action/{action}", json={"format": 1, **params}, timeout=10
    ).json()


def admin_ks(sandbox) -> str:  # type: ignore[no-untyped-def]
    c = sandbox.credentials
    return kaltura_api(sandbox, "session", "start", secret=c["adminSecret"], partnerId=c["partnerId"], type=2)


def user_ks(sandbox, user_id: str) -> str:  # type: ignore[no-untyped-def]
    """A USER session for ``user_id``, as a member's own upload would use (starting it creates nobody)."""
    c = sandbox.credentials
    return kaltura_api(
        sandbox, "session", "start", secret=c["adminSecret"], partnerId=c["partnerId"], type=0, userId=user_id
    )


def kaltura_user(sandbox, user_id: str) -> dict | None:  # type: ignore[no-untyped-def]
    """The sandbox's user ``user_id`` as an admin sees it, or None."""
    answer = kaltura_api(
        sandbox,
        "user",
        "list",
        ks=admin_ks(sandbox),
        filter={"objectType": "KalturaUserFilter", "idEqual": user_id},
    )
    objects = answer.get("objects") or []
    return objects[0] if objects else None


def upload_as(sandbox, user_id: str, name: str = "First upload") -> dict:  # type: ignore[no-untyped-def]
    """``uploadToken.add`` then ``media.add`` in a USER session of ``user_id``: what a first upload does."""
    ks = user_ks(sandbox, user_id)
    token = kaltura_api(sandbox, "uploadToken", "add", ks=ks, uploadToken={"objectType": "KalturaUploadToken"})
    assert token.get("objectType") == "KalturaUploadToken", token
    entry = kaltura_api(
        sandbox, "media", "add", ks=ks, entry={"objectType": "KalturaMediaEntry", "name": name, "mediaType": 1}
    )
    assert entry.get("objectType") == "KalturaMediaEntry", entry
    return entry
