"""The API envelope over real HTTP with plain ``requests``: URL forms, parameter sources and
flattening, JSON/XML shapes, in-band errors, bad input, multirequest, CORS, the control surface,
the CLI and persistence (reference/kaltura-api.md §1)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import requests

from kaltura_sandbox.testing import SandboxProcess
from tests.sandbox.conftest import JsonApi, is_error

ROOT = Path(__file__).resolve().parents[2]


def post(url: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.post(url + path, timeout=60, **kwargs)
    response.close()
    return response


def assert_object_type_last(value: Any) -> None:
    """Every JSON object but an exception ends with ``objectType``; recurse into everything."""
    if isinstance(value, dict):
        keys = list(value)
        if value.get("objectType") == "KalturaAPIException":
            assert keys == ["code", "message", "objectType", "args"]
        elif "objectType" in value:
            assert keys[-1] == "objectType", keys
        for item in value.values():
            assert_object_type_last(item)
    elif isinstance(value, list):
        for item in value:
            assert_object_type_last(item)


def assert_no_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            assert item is not None
            assert_no_nulls(item)
    elif isinstance(value, list):
        for item in value:
            assert_no_nulls(item)


# ---------------------------------------------------------------------------------------------
# URL forms and parameter sources
# ---------------------------------------------------------------------------------------------


def test_path_query_and_case_insensitive_forms_agree(sandbox, admin):
    forms = [
        ("/api_v3/service/user/action/get", {"format": "1", "ks": admin, "userId": "li.wei"}),
        ("/api_v3/index.php", {"service": "USER", "action": "Get", "format": "1", "ks": admin, "userId": "li.wei"}),
        ("/api_v3/", {"service": "user", "action": "get", "format": "1", "ks": admin, "userId": "li.wei"}),
    ]
    answers = [requests.get(sandbox.url + path, params=query, timeout=30).json() for path, query in forms]
    assert answers[0]["id"] == "li.wei"
    assert answers[1] == answers[0] == answers[2]


def test_json_body_needs_exactly_application_json(sandbox, creds):
    body = json.dumps({"format": 1, "widgetId": f"_{creds['partnerId']}"})
    exact = post(
        sandbox.url,
        "/api_v3/service/session/action/startWidgetSession",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert exact.json()["objectType"] == "KalturaStartWidgetSessionResponse"
    charset = post(
        sandbox.url,
        "/api_v3/service/session/action/startWidgetSession?format=1",
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert charset.json()["code"] == "MISSING_MANDATORY_PARAMETER"
    assert charset.json()["args"] == {"PARAM_NAME": "widgetId"}


def test_query_overrides_body_and_multipart_json_field(sandbox, admin):
    overridden = post(
        sandbox.url,
        "/api_v3/service/user/action/get?userId=li.wei",
        json={"format": 1, "ks": admin, "userId": "jordan.lee"},
    )
    assert overridden.json()["id"] == "li.wei"
    multipart = post(
        sandbox.url,
        "/api_v3/service/user/action/get",
        files={"json": (None, json.dumps({"format": "1", "ks": admin, "userId": "maria.garcia"}))},
    )
    assert multipart.json()["id"] == "maria.garcia"


def test_colon_and_bracket_flattening(sandbox, admin):
    for key in ("filter:idEqual", "filter[idEqual]"):
        answer = post(
            sandbox.url, "/api_v3/service/user/action/list", data={"format": "1", "ks": admin, key: "priya.nair"}
        ).json()
        assert [u["id"] for u in answer["objects"]] == ["priya.nair"], key
        assert answer["totalCount"] == 1
    flat_json = post(
        sandbox.url, "/api_v3/service/user/action/list", json={"format": 1, "ks": admin, "filter:idEqual": "li.wei"}
    ).json()
    assert [u["id"] for u in flat_json["objects"]] == ["li.wei"]


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------


def test_json_objects_have_no_wrapper_no_nulls_and_object_type_last(api, admin, creds):
    results = [
        api.ok("session", "startWidgetSession", widgetId=f"_{creds['partnerId']}"),
        api.ok("user", "list", ks=admin),
        api.ok("appToken", "list", ks=admin),
        api.app_token_session(creds["clientAppToken"], creds["partnerId"], userId="li.wei"),
    ]
    for result in results:
        assert "result" not in result and "executionTime" not in result
        assert_object_type_last(result)
        assert_no_nulls(result)
    user = results[1]["objects"][0]
    assert isinstance(user["status"], int) and isinstance(user["isAdmin"], bool)
    assert isinstance(results[1]["totalCount"], int)


def test_scalar_and_void_results_are_bare_json(api, admin):
    assert api.call("system", "ping") is True
    assert api.call("session", "end", ks=admin) is None


def test_json_escapes_slashes_like_php(sandbox, admin):
    response = post(
        sandbox.url,
        "/api_v3/service/user/action/add",
        json={
            "format": 1,
            "ks": admin,
            "user": {"objectType": "KalturaUser", "id": "slash.user", "description": "a/b é"},
        },
    )
    assert '"description":"a\\/b \\u00e9"' in response.text
    assert response.json()["description"] == "a/b é"


def test_errors_are_in_band_with_args_object_or_empty_array(api, admin):
    no_args = api.error("user", "get", ks=admin, userId="nobody.here")
    assert list(no_args) == ["code", "message", "objectType", "args"]
    assert no_args["args"] == []
    unknown = api.error("nosuchservice", "list")
    assert unknown == {
        "code": "SERVICE_DOES_NOT_EXISTS",
        "message": 'Service "nosuchservice" does not exists',
        "objectType": "KalturaAPIException",
        "args": {"SRV_NAME": "nosuchservice"},
    }


def test_xml_is_the_default_format(sandbox, admin):
    response = post(sandbox.url, "/api_v3/service/user/action/get", data={"ks": admin, "userId": "li.wei"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "xml" and [child.tag for child in root] == ["result", "executionTime"]
    result = root.find("result")
    assert [child.tag for child in result][:2] == ["objectType", "relatedObjects"]
    assert result.findtext("objectType") == "KalturaUser"
    assert result.findtext("isAdmin") == "0"
    assert result.find("description").text is None  # null -> empty element
    float(root.findtext("executionTime"))


def test_xml_errors_and_ignore_null(sandbox, admin):
    error = post(sandbox.url, "/api_v3/service/user/action/get", data={"ks": admin, "userId": "nobody", "format": "2"})
    node = ET.fromstring(error.content).find("result/error")
    assert node.findtext("code") == "INVALID_USER_ID"
    assert node.findtext("message") == "Invalid user id"
    assert node.findtext("objectType") == "KalturaAPIException"
    args = post(sandbox.url, "/api_v3/service/foo/action/bar", data={"format": "2"})
    item = ET.fromstring(args.content).find("result/error/args/item")
    assert [item.findtext(tag) for tag in ("objectType", "name", "value")] == [
        "KalturaApiExceptionArg",
        "SRV_NAME",
        "foo",
    ]
    lean = post(
        sandbox.url, "/api_v3/service/user/action/get", data={"ks": admin, "userId": "li.wei", "ignoreNull": "1"}
    )
    assert ET.fromstring(lean.content).find("result/description") is None


# ---------------------------------------------------------------------------------------------
# Bad input: documented errors, never a traceback or an HTTP 500
# ---------------------------------------------------------------------------------------------


def test_unknown_action_of_a_known_service(api):
    error = api.error("user", "fly")
    assert error["args"] == {"ACTION_NAME": "fly", "SERVICE_NAME": "user"}
    assert error["message"] == 'Action "fly" does not exists for service "user"'


def test_missing_service_and_action(sandbox):
    assert post(sandbox.url, "/api_v3/index.php?format=1").json()["code"] == "SERVICE_NOT_SPECIFIED"
    answer = post(sandbox.url, "/api_v3/index.php?format=1&service=user").json()
    assert answer["code"] == "ACTION_NOT_SPECIFIED"


def test_wrong_types(api, admin, creds):
    enum = api.error("session", "start", secret="x", type="7", partnerId=creds["partnerId"])
    assert enum["args"] == {"ENUM_VAL": "7", "PARAM_NAME": "type", "ENUM_TYPE": "KalturaSessionType"}
    scalar = api.error("user", "list", ks=admin, filter="not-an-object")
    assert scalar["code"] == "PROPERTY_VALIDATION_WRONG_FORMAT"
    # Integers are cast like PHP's (int): junk becomes 0, which is simply a small page.
    cast = api.ok("user", "list", ks=admin, pager={"pageSize": "2abc"})
    assert len(cast["objects"]) == 2
    bad_char = api.error(
        "user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "ctl", "description": "a\x01b"}
    )
    assert bad_char["code"] == "INVALID_PARAMETER_CHAR"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'--xyz\r\nContent-Disposition: form-data; name="ks"\r\n\r\nabc', "multipart/form-data; boundary=xyz"),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"\x00" * 1000, "application/octet-stream"),
    ],
)
def test_garbage_requests_get_in_band_answers(sandbox, body, content_type):
    response = post(
        sandbox.url, "/api_v3/service/user/action/get?format=1", data=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 200
    assert is_error(response.json())
    assert "Traceback" not in response.text


def test_unknown_format_gives_an_empty_body_with_headers(sandbox):
    response = post(sandbox.url, "/api_v3/service/system/action/ping?format=77")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["X-Kaltura"] == "error-UNKNOWN_RESPONSE_FORMAT"


# ---------------------------------------------------------------------------------------------
# Multirequest
# ---------------------------------------------------------------------------------------------


def test_multirequest_json_zero_based_with_references(sandbox, admin):
    response = post(
        sandbox.url,
        "/api_v3/service/multirequest",
        json={
            "format": 1,
            "ks": admin,
            "0": {
                "service": "user",
                "action": "add",
                "user": {"objectType": "KalturaUser", "id": "mr.one", "email": "mr1@example.com"},
            },
            "1": {"service": "user", "action": "get", "userId": "{1:result:id}"},
            "2": {"service": "user", "action": "get", "userId": "nobody"},
            "3": {"service": "user", "action": "list", "filter": {"idIn": "{1:result:id},li.wei", "orderBy": "+id"}},
            "4": {"service": "appToken", "action": "list", "format": 2},
        },
    )
    results = response.json()
    assert isinstance(results, list) and len(results) == 5
    assert results[0]["id"] == results[1]["id"] == "mr.one"
    assert results[2]["code"] == "INVALID_USER_ID"
    assert [u["id"] for u in results[3]["objects"]] == ["li.wei", "mr.one"]
    assert results[4]["objectType"] == "KalturaAppTokenListResponse"
    assert_object_type_last(results)


def test_multirequest_form_one_based_all_join_and_stop(sandbox, admin):
    results = post(
        sandbox.url,
        "/api_v3/service/multirequest",
        data={
            "format": "1",
            "ks": admin,
            "1:service": "user",
            "1:action": "list",
            "1:filter:idIn": "li.wei,maria.garcia",
            "1:filter:orderBy": "+id",
            "2:service": "user",
            "2:action": "list",
            "2:filter:idIn": "{1:result:objects:_all:id}",
            "3:service": "user",
            "3:action": "get",
            "3:userId": "{1:result:objects:1:id}",
            "5:service": "user",
            "5:action": "get",
            "5:userId": "li.wei",
        },
    ).json()
    assert len(results) == 3  # index 4 is missing: the walk stops there
    assert results[1]["totalCount"] == 2
    assert results[2]["id"] == "maria.garcia"


def test_multirequest_xml_items(sandbox, admin):
    response = post(
        sandbox.url,
        "/api_v3/service/multirequest",
        data={
            "ks": admin,
            "1:service": "user",
            "1:action": "get",
            "1:userId": "li.wei",
            "2:service": "user",
            "2:action": "get",
            "2:userId": "nobody",
        },
    )
    items = ET.fromstring(response.content).findall("result/item")
    assert items[0].findtext("objectType") == "KalturaUser"
    assert items[1].findtext("error/code") == "INVALID_USER_ID"


# ---------------------------------------------------------------------------------------------
# CORS
# ---------------------------------------------------------------------------------------------


def test_cors_preflight_and_exposed_headers(sandbox):
    preflight = requests.options(
        sandbox.url + "/api_v3/service/uploadToken/action/upload",
        timeout=30,
        headers={
            "Origin": "http://localhost:5000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-custom",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type,x-custom"
    answer = post(sandbox.url, "/api_v3/service/foo/action/bar?format=1", headers={"Origin": "http://localhost:5000"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Kaltura" in answer.headers["Access-Control-Expose-Headers"]


# ---------------------------------------------------------------------------------------------
# Control surface
# ---------------------------------------------------------------------------------------------


def test_fault_api_error_then_normal(sandbox_reset, api, admin):
    sandbox_reset.control("fault", action="user.get", count=2, kind="api_error", code="LOCK_TIMED_OUT")
    codes = [api.call("user", "get", ks=admin, userId="li.wei").get("code") for _ in range(3)]
    assert codes == ["LOCK_TIMED_OUT", "LOCK_TIMED_OUT", None]


def test_fault_http_statuses_drop_and_stall(sandbox_reset, admin):
    url = sandbox_reset.url + "/api_v3/service/user/action/get"
    query = {"format": "1", "ks": admin, "userId": "li.wei"}
    sandbox_reset.control("fault", action="user.get", count=1, kind="http_503")
    assert requests.get(url, params=query, timeout=30).status_code == 503
    sandbox_reset.control("fault", action="user.get", count=1, kind="drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, params=query, timeout=30)
    sandbox_reset.control("fault", action="user.get", count=1, kind="stall", seconds=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, params=query, timeout=0.5)
    assert requests.get(url, params=query, timeout=30).json()["id"] == "li.wei"


def test_fault_drop_after_keeps_the_effect_and_loses_the_answer(sandbox_reset, api, admin):
    url = sandbox_reset.url + "/api_v3/service/user/action/add"
    body = {"format": 1, "ks": admin, "user": {"objectType": "KalturaUser", "id": "lost.answer"}}
    sandbox_reset.control("fault", action="user.add", count=1, kind="drop_after")
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json=body, timeout=30)
    # The user was made although its answer never arrived: a retried add is now a duplicate.
    assert api.ok("user", "get", ks=admin, userId="lost.answer")["id"] == "lost.answer"
    assert api.error("user", "add", ks=admin, user=body["user"])["code"] == "DUPLICATE_USER_BY_ID"


def test_latency_on_one_action(sandbox_reset, admin):
    sandbox_reset.control("latency", seconds=5, action="user.get")
    url = sandbox_reset.url + "/api_v3/service/user/action/get"
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, params={"format": "1", "ks": admin}, timeout=0.5)
    other = requests.get(sandbox_reset.url + "/api_v3/service/system/action/ping?format=1", timeout=3)
    assert other.json() is True
    sandbox_reset.control("latency", seconds=0, action="user.get")


def test_expire_sessions(sandbox_reset, api, admin, creds):
    sandbox_reset.control("expire_sessions")
    error = api.error("user", "get", ks=admin, userId="li.wei")
    assert error["args"]["KSID"] == "EXPIRED"
    fresh = api.admin_ks(creds)
    assert api.ok("user", "get", ks=fresh, userId="li.wei")["id"] == "li.wei"


def test_call_counters(sandbox_reset, api, admin):
    sandbox_reset.control("calls/reset")
    api.call("user", "get", ks=admin, userId="li.wei")
    api.call("USER", "GET", ks=admin, userId="li.wei")
    post(sandbox_reset.url, "/api_v3/service/multirequest", data={"ks": admin, "1:service": "user", "1:action": "list"})
    assert sandbox_reset.calls() == {"multirequest": 1, "user.get": 2, "user.list": 1}
    sandbox_reset.control("calls/reset")
    assert sandbox_reset.calls() == {}


def test_reset_discards_changes(sandbox_reset, api, admin):
    api.ok("user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "temp.user"})
    sandbox_reset.reset()
    fresh = api.admin_ks(sandbox_reset.credentials)
    assert api.error("user", "get", ks=fresh, userId="temp.user")["code"] == "INVALID_USER_ID"


def test_partner_switch_and_bad_control_input(sandbox_reset):
    assert sandbox_reset.control("partner", has_4k=False)["ok"] is True
    response = requests.post(
        sandbox_reset.url + "/__control/fault", json={"action": "x", "kind": "meltdown"}, timeout=30
    )
    assert response.status_code == 400
    assert requests.get(sandbox_reset.url + "/__control/nothing", timeout=30).status_code == 404


# ---------------------------------------------------------------------------------------------
# CLI, control flag, persistence
# ---------------------------------------------------------------------------------------------


def run_cli(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-m", "kaltura_sandbox", *args], check=True, capture_output=True, timeout=120, cwd=ROOT
    ).stdout
    return json.loads(output)


def test_credentials_command_is_deterministic_and_matches_the_server(sandbox_reset):
    printed = run_cli("credentials")
    assert printed == run_cli("credentials")
    assert printed == sandbox_reset.credentials
    assert list(printed) == ["partnerId", "adminSecret", "clientAppToken", "serverAppToken", "articleServerAppToken"]


def test_persistence_and_no_control_without_the_flag(tmp_path):
    data = tmp_path / "state"
    with SandboxProcess(data_dir=data, enable_control=False, entries=20) as first:
        assert requests.post(first.url + "/__control/reset", json={}, timeout=30).status_code == 404
        creds = first.credentials
        api = JsonApi(first.url)
        admin = api.admin_ks(creds)
        api.ok("user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "kept.user"})
    assert (data / "sandbox.sqlite3").exists()
    assert run_cli("credentials", "--data", str(data)) == creds
    with SandboxProcess(data_dir=data, enable_control=False) as second:
        api = JsonApi(second.url)
        admin = api.admin_ks(creds)
        assert api.ok("user", "get", ks=admin, userId="kept.user")["id"] == "kept.user"
