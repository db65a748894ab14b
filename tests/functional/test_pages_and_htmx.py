"""What no other test checked (issue 9, item 13): boosted navigation gets whole pages, sign-in starts a
fresh session, fields without a hint carry no aria-describedby="None", and HTMX fragments stay fragments."""

from __future__ import annotations

import re

import pytest

from tests.helpers import csrf_token, sign_in

TAB = "/hubs/northwind/settings/integrations/kaltura"
PAGES = ["/", "/account", "/hubs/northwind", "/hubs/northwind/settings", "/hubs/northwind/settings/members", TAB]
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://localhost/"}


@pytest.fixture
def admin(signed_in):
    return signed_in("ada@northwind.example")


@pytest.mark.parametrize("path", PAGES)
def test_boosted_navigation_gets_the_whole_page(admin, path):
    response = admin.get(path, headers=BOOSTED)

    assert response.status_code == 200
    assert response.text.lstrip().startswith("<!doctype html>") and "<title>" in response.text
    assert 'id="announcer"' in response.text and 'id="request-error"' in response.text
    assert "HX-Request" in response.headers.get("Vary", "")


@pytest.mark.parametrize("headers", [BOOSTED, {"HX-Request": "true", "HX-History-Restore-Request": "true"}, {}])
def test_a_refused_boosted_or_plain_form_post_gets_the_whole_page(admin, headers):
    data = {
        "csrf_token": csrf_token(admin, TAB),
        "service_url": "https://www.kaltura.com",
        "client_token": "0_ab12cd34",
    }

    response = admin.post(TAB, data=data, headers=headers)

    assert response.status_code == 422
    assert response.text.lstrip().startswith("<!doctype html>")
    assert 'id="error-summary"' in response.text and "only the token&#39;s id" in response.text


def test_an_htmx_post_gets_only_its_fragment(admin):
    data = {
        "csrf_token": csrf_token(admin, TAB),
        "service_url": "https://www.kaltura.com",
        "client_token": "0_ab12cd34",
    }

    response = admin.post(TAB, data=data, headers={"HX-Request": "true", "HX-Target": "kaltura-form-section"})

    assert response.status_code == 422
    assert "<html" not in response.text and "<title>" not in response.text
    assert response.text.lstrip().startswith('<section class="card" id="kaltura-form-section"')
    assert "HX-Request" in response.headers["Vary"]


def test_sign_in_starts_a_fresh_session(client, demo):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"  # e.g. a fixated or leftover session
        session["_flashes"] = [("info", "stale message")]

    sign_in(client, "ada@northwind.example")

    with client.session_transaction() as session:
        assert "planted" not in session and "_flashes" not in session
        assert session.get("_user_id")


@pytest.mark.parametrize("who", ["ada@northwind.example", "sue@support.example"])
def test_no_field_says_aria_describedby_none(signed_in, who):
    client = signed_in(who)

    for path in [*PAGES, "/sign-in"]:
        text = client.get(path).text
        assert 'aria-describedby="None"' not in text, path
        for described in re.findall(r'aria-describedby="([^"]+)"', text):
            for element_id in described.split():
                assert f'id="{element_id}"' in text, (path, element_id)


def test_the_kaltura_tab_offers_the_help_and_shapes_of_what_to_paste(admin):
    text = admin.get(TAB).text

    assert "appToken.add" in text and "Try it out" in text and "Send request" in text
    assert "enableentitlement,privacycontext:YOUR_CONTEXT,list:*" in text
    assert "setrole:ROLE_ID,disableentitlement" in text and "ADMIN_USER_ADD" in text
    assert re.search(r'<textarea[^>]*placeholder="\{\n  &#34;id&#34;: &#34;0_ab12cd34&#34;', text)
    # The mapping examples are the viewer's own address, never another member's.
    assert "(you: ada@northwind.example)" in text and "(you: ada)" in text
    assert "pat@" not in text


def test_each_kaltura_route_checks_access_once(admin, monkeypatch):
    from portal.integrations import views

    calls = []
    real = views.hub_access

    def counting(*args, **kwargs):
        calls.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "hub_access", counting)
    token = csrf_token(admin, TAB)
    requests = [
        ("GET", TAB, None),
        ("POST", TAB, {"csrf_token": token, "client_token": "0_ab12cd34"}),
        ("POST", f"{TAB}/test", {"csrf_token": token, "client_token": "0_ab12cd34"}),
        ("GET", f"{TAB}/client/remove", None),
        ("POST", f"{TAB}/user-id-rule", {"csrf_token": token, "custom_rule": "{local}"}),
    ]
    for method, path, data in requests:
        calls.clear()
        admin.open(path, method=method, data=data)
        assert len(calls) == 1, (method, path, calls)


@pytest.mark.parametrize(("who", "label"), [("ada@northwind.example", "My hubs"), ("sue@support.example", "All hubs")])
def test_the_nav_names_the_hub_list_as_its_page_does(signed_in, who, label):
    text = signed_in(who).get("/").text

    assert re.search(rf'<nav class="topnav" aria-label="Main">\s*<a href="/" aria-current="page">{label}</a>', text)
    assert f"<h1>{label}</h1>" in text
