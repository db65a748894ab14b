"""Account → Integrations → (hub) against the sandbox: what each member sees, per role and link state."""

from __future__ import annotations

import html
import re

import pytest

from portal.kaltura import parse_app_token
from portal.kaltura.media import MediaQuery
from portal.kaltura.types import MediaType
from portal.models import IdentityState
from tests import identity_support as ids
from tests.helpers import sign_in

PAGE = "/account/integrations/{}"


def _field(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</dd>', page, re.S)
    assert match, f"no #{element_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


def _counts(app, sandbox, user_id: str) -> tuple[int, int]:
    """(owned, usable) as Kaltura itself counts them for ``user_id``."""
    token, _ = parse_app_token(__import__("json").dumps(sandbox.credentials["clientAppToken"]), "client")
    gateway = app.extensions["kaltura"]
    every = (MediaType.VIDEO, MediaType.IMAGE, MediaType.AUDIO)
    usable = gateway.browse_media(sandbox.url, token, user_id, MediaQuery(media_types=every, page_size=1))
    owned = gateway.browse_media(sandbox.url, token, user_id, MediaQuery(media_types=every, owner=user_id, page_size=1))
    return owned.total_count, usable.total_count


@pytest.fixture
def world(app, db, harbour, sandbox):
    ids.connect(app, db, sandbox)
    ids.connect(app, db, sandbox, slug="harbour", server="articleServerAppToken")


def _page(app, email: str, slug: str):
    client = app.test_client()
    sign_in(client, email)
    return client.get(PAGE.format(slug))


def test_an_existing_kaltura_user_sees_it_used_with_real_counts(app, db, sandbox, world):
    response = _page(app, "pat@northwind.example", "northwind")
    assert response.status_code == 200
    page = response.text
    assert _field(page, "kaltura-user-id") == "pat@northwind.example"
    assert _field(page, "identity-state") == "Your Kaltura user already existed; the portal uses it as it is."
    owned, usable = _counts(app, sandbox, "pat@northwind.example")
    assert owned > 0 and usable > owned
    assert _field(page, "owned-count") == f"{owned:,}" and _field(page, "usable-count") == f"{usable:,}"
    assert "The Kaltura integration is on for this hub." in page and 'id="integration-badge">On<' in page
    assert _field(page, "checked-at") != "Never"
    assert 'id="integration-problem"' not in page


def test_a_new_member_sees_their_user_was_created(app, db, sandbox, world):
    page = _page(app, "sam@northwind.example", "northwind").text
    assert _field(page, "identity-state") == "Your Kaltura user was created for you."
    assert _field(page, "owned-count") == "0"
    assert ids.kaltura_user(sandbox, "sam@northwind.example")["lastName"] == "Sample"
    assert ids.link(db, "northwind", "sam@northwind.example").state is IdentityState.CREATED


def test_a_pending_member_is_told_honestly_and_the_admin_how_to_do_better(app, db, sandbox, world):
    page = html.unescape(_page(app, "hana@harbour.example", "harbour").text)
    assert _field(page, "identity-state") == "Your Kaltura user will be created on your first upload."
    assert "Kaltura will create your user the first time you upload" in page
    assert "you can browse and use media as usual" in page
    assert 'id="admin-advice"' not in page  # a participant cannot change the token
    assert ids.kaltura_user(sandbox, "hana@harbour.example") is None

    admin = html.unescape(_page(app, "ada@northwind.example", "harbour").text)
    assert 'id="admin-advice"' in admin
    assert "ADMIN_BASE" in admin and "ADMIN_USER_ADD" in admin and "disableentitlement,setrole:ROLE_ID" in admin

    ids.upload_as(sandbox, "hana@harbour.example")
    after = _page(app, "hana@harbour.example", "harbour").text
    assert _field(after, "identity-state") == "Your Kaltura user was created for you."
    assert _field(after, "owned-count") == f"{_counts(app, sandbox, 'hana@harbour.example')[0]:,}"
    assert ids.link(db, "harbour", "hana@harbour.example").state is IdentityState.CREATED


def test_a_kaltura_failure_is_explained_and_points_to_support(app, db, sandbox, world):
    sandbox.control("fault", action="user.add", code="INTERNAL_DATABASE_ERROR", count=1)
    response = _page(app, "sam@northwind.example", "northwind")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "Your Kaltura user could not be set up (Kaltura answered INTERNAL_DATABASE_ERROR)" in page
    assert "contact support" in page
    assert _field(page, "identity-state") == "Your Kaltura user could not be set up yet."


def test_a_hub_without_connection_says_the_integration_is_off(app, db, demo):
    page = _page(app, "pat@northwind.example", "riverside").text
    assert 'id="integration-badge">Off<' in page and "plan does not include the Kaltura integration" in page
    assert 'id="kaltura-user-id"' not in page
    other = _page(app, "pat@northwind.example", "northwind").text
    assert "not connected to Kaltura yet" in other and "Hub settings → Integrations: Kaltura" in html.unescape(other)


def test_the_account_page_links_each_of_your_hubs(app, db, harbour):
    client = app.test_client()
    sign_in(client, "ada@northwind.example")
    page = client.get("/account").text
    assert 'href="/account/integrations/northwind"' in page and 'href="/account/integrations/harbour"' in page
    assert "/account/integrations/riverside" not in page
    client = app.test_client()
    sign_in(client, "sue@support.example")
    support = client.get("/account").text  # support sees every hub, but is a member of none
    assert "/account/integrations/" not in support


@pytest.mark.parametrize("email", ["sue@support.example", "rita@riverside.example"])
def test_non_members_get_a_404(app, db, world, email):
    assert _page(app, email, "northwind").status_code == 404
    assert _page(app, "pat@northwind.example", "atlantis").status_code == 404
