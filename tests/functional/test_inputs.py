"""Issue 8, item 3: every field of every form, posted as a file, with a NUL, with a lone surrogate.

Each must get a 4xx with the field's own error in the page, and change nothing; none may reach
a 500. The table below maps each form to the route that reads it; a form it does not list fails
``test_every_form_is_covered``, so a new form is tested the day it is written.
"""

from __future__ import annotations

import html
import io
import re
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa

from portal.inputs import FILE_SENT, PortalForm, field_names
from portal.models import Hub, Membership, User
from tests.functional.test_authorization import CLOSED_PORT, USERS, _without_audit
from tests.helpers import CSRF, sign_in, snapshot

MEMBERS = "/hubs/northwind/settings/members"

# form class name -> (path, role, the data of a request that would otherwise succeed)
FORMS = {
    "SignInForm": ("/sign-in", "anonymous", {"email": "ada@northwind.example", "password": "demo-password"}),
    "HubGeneralForm": ("/hubs/northwind/settings", "admin", {"name": "Renamed Hub"}),
    "PlanForm": ("/hubs/northwind/settings/plan", "support", {"plan": "enterprise"}),
    "AddMemberForm": (MEMBERS, "admin", {"email": "newcomer@elsewhere.example", "role": "participant"}),
    "MemberRoleForm": (f"{MEMBERS}/{{sam}}/role", "admin", {"role": "admin"}),
    "KalturaForm": (
        "/hubs/northwind/settings/integrations/kaltura",
        "admin",
        {
            "service_url": "custom",
            "custom_service_url": "https://kaltura.example.org",
            "client_token": '{"id": "0_x"}',
            "server_token": '{"id": "0_y"}',
            "user_id_mode": "email",
        },
    ),
    "CustomRuleForm": (
        "/hubs/northwind/settings/integrations/kaltura/user-id-rule",
        "support",
        {"custom_rule": "{local}"},
    ),
    "EmailChangeForm": ("/support/users/{sam_user}/email", "support", {"email": "sam.new@northwind.example"}),
    "AuditFilterForm": ("/audit", "support", {"actor": "ada", "action": "", "hub": "", "since": "", "until": ""}),
    "DashboardForm": ("/support", "support", {"problem": "failing", "sort": "health"}),
}
NO_FIELDS = {"EmptyForm"}  # only the CSRF token, covered by tests/functional/test_csrf.py
GET_FORMS = {"AuditFilterForm", "DashboardForm"}
# Where a field's error is shown, when not in the form macro's list under the field.
ERROR_PLACES = {
    "MemberRoleForm.role": r'<p class="errors row-error" id="role-\d+-error" role="alert">(.*?)</p>',  # on the row
    "KalturaForm.user_id_mode": r'<fieldset class="field field-error"[^>]*>.*?<ul class="errors"[^>]*>(.*?)</ul>',
}

ATTACKS = {
    "file": FILE_SENT,
    "nul": "NUL character (U+0000)",
    "surrogate": "could not be read (U+FFFD",
}


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": CLOSED_PORT, "KALTURA_CUSTOM_HOSTS": True}


def _form_classes() -> dict[str, type[PortalForm]]:
    import portal.accounts.forms
    import portal.audit_log.forms
    import portal.hubs.forms
    import portal.identity.forms
    import portal.integrations.forms
    import portal.status.forms  # noqa: F401  (registers the forms)

    found: dict[str, type[PortalForm]] = {}
    pending = list(PortalForm.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def _cases():
    forms = _form_classes()
    for name in FORMS:
        for field in field_names(forms[name]):
            for attack in ATTACKS:
                if attack == "file" and name in GET_FORMS:
                    continue  # a query string has no file parts
                yield pytest.param(name, field, attack, id=f"{name}.{field}-{attack}")


def test_every_form_is_covered():  # type: ignore[no-untyped-def]
    assert set(_form_classes()) - NO_FIELDS == set(FORMS), "add the form (and the route that reads it) to FORMS"


def test_forms_refuse_fields_that_skip_the_checks():  # type: ignore[no-untyped-def]
    from wtforms import StringField

    class Careless(PortalForm):
        name = StringField("Name")

    from flask import Flask

    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", WTF_CSRF_ENABLED=False)
    with app.test_request_context(), pytest.raises(TypeError, match=r"use the fields of portal\.inputs"):
        Careless()


BOUNDARY = "portal-test-boundary"


def _multipart(fields: dict[str, str]) -> bytes:
    body = b""
    for name, value in fields.items():
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += value.encode("utf-8", "surrogatepass") + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _sam_membership(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(
        sa.select(Membership.id).join(User).join(Hub).where(User.email == USERS["participant"], Hub.slug == "northwind")
    )


@pytest.mark.parametrize(("form", "field", "attack"), list(_cases()))
def test_every_field_refuses_files_nul_and_lone_surrogates(app, client, db, demo, form, field, attack):  # type: ignore[no-untyped-def]
    path, role, data = FORMS[form]
    sam_user = db.scalar(sa.select(User.id).where(User.email == USERS["participant"]))
    path = path.format(sam=_sam_membership(db), sam_user=sam_user)
    if role != "anonymous":
        sign_in(client, USERS[role])
    token = CSRF.search(client.get("/sign-in" if role == "anonymous" else "/account").text).group(1)
    data = {**data, field: data.get(field) or "x"}
    before = _without_audit(snapshot(db))

    if form in GET_FORMS:
        value = {"nul": "ada\x00", "surrogate": "ada\ud800"}[attack]
        query = "&".join(
            f"{key}={quote((value if key == field else str(v)).encode('utf-8', 'surrogatepass'))}"
            for key, v in data.items()
        )
        response = client.get(f"{path}?{query}")
        if attack == "surrogate":
            # Werkzeug keeps an undecodable %-sequence in a query string as the literal text: harmless.
            assert response.status_code in (200, 422)
            return
    elif attack == "file":
        files = {key: value for key, value in data.items() if key != field}
        files[field] = (io.BytesIO(str(data[field]).encode()), "pasted.txt")
        response = client.post(path, data={**files, "csrf_token": token}, content_type="multipart/form-data")
    elif attack == "nul":
        body = urlencode(
            {**{k: str(v) for k, v in data.items()}, field: str(data[field]) + "\x00", "csrf_token": token}
        )
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    else:
        # A lone surrogate as a client would encode it (UTF-8 bytes ED A0 80, which are not UTF-8), in
        # a multipart text part, where the server decodes the bytes (a urlencoded %ED%A0%80 stays text).
        parts = {**{k: str(v) for k, v in data.items()}, field: str(data[field]) + "\ud800", "csrf_token": token}
        response = client.post(path, data=_multipart(parts), content_type=f"multipart/form-data; boundary={BOUNDARY}")

    assert response.status_code in (400, 409, 422), response.text[:300]
    text = html.unescape(response.text)
    assert ATTACKS[attack] in text, f"no field error for {form}.{field}"
    errors = re.search(
        ERROR_PLACES.get(f"{form}.{field}", rf'<ul class="errors" id="{field}-errors">(.*?)</ul>'), response.text, re.S
    )
    assert errors and ATTACKS[attack] in html.unescape(errors.group(1)), "the error is not under its field"
    assert "\x00" not in text
    assert _without_audit(snapshot(db)) == before


def test_a_service_url_of_3000_characters_says_how_long_it_is(client, db, demo):  # type: ignore[no-untyped-def]
    sign_in(client, USERS["admin"])
    token = CSRF.search(client.get("/account").text).group(1)
    long_url = "https://kaltura.example.org/" + "a" * (3000 - 28)
    response = client.post(
        "/hubs/northwind/settings/integrations/kaltura",
        data={"service_url": "custom", "custom_service_url": long_url, "user_id_mode": "email", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "This service URL has 3,000 characters" in html.unescape(response.text)
    assert "at most 255 characters" in response.text


def test_a_json_body_is_not_form_data(client, demo):  # type: ignore[no-untyped-def]
    token = CSRF.search(client.get("/sign-in").text).group(1)
    response = client.post("/sign-in", json={"email": {"$ne": None}, "password": ["a"]}, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert "Enter the email address you sign in with." in response.text
