"""Portal email → Kaltura user id: the three modes, and custom rules parsed safely (never str.format)."""

from __future__ import annotations

import pytest

from portal.identity import KALTURA_USER_ID, UserIdRule, check_rule, mapped_user_id
from portal.models import UserIdMode
from portal.validation import FieldError


@pytest.mark.parametrize(
    ("mode", "rule", "expected"),
    [
        (UserIdMode.EMAIL, None, "pat.lee@northwind.example"),
        (UserIdMode.EMAIL_PREFIX, None, "pat.lee"),
        (UserIdMode.CUSTOM, "{local}@corp", "pat.lee@corp"),
        (UserIdMode.CUSTOM, "{domain}/{local}", "northwind.example/pat.lee"),
        (UserIdMode.CUSTOM, "x{email}", "xpat.lee@northwind.example"),
        (UserIdMode.CUSTOM, "{{{local}}}", "{pat.lee}"),
    ],
)
def test_each_mode_maps_an_email_to_its_kaltura_id(mode: UserIdMode, rule: str | None, expected: str) -> None:
    assert mapped_user_id("pat.lee@northwind.example", mode, rule) == expected


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("{local}{", "without its partner"),
        ("{local}}", "without its partner"),
        ("}{local}", "without its partner"),
        ("{", "without its partner"),
        ("plain", "at least one of"),
        ("{}", "Unknown placeholder {}"),
        ("{0}", "Unknown placeholder {0}"),
        ("{nope}", "Unknown placeholder {nope}"),
        ("{email.__class__}", "Unknown placeholder {email.__class__}"),
        ("{email[0]}", "Unknown placeholder {email[0]}"),
        ("{local!r}", "Unknown placeholder {local!r}"),
        ("{local:>40}", "Unknown placeholder {local:>40}"),
        ("{local} x", "does not accept as a user id"),
    ],
)
def test_a_bad_rule_is_a_field_error_never_an_exception(rule: str, says: str) -> None:
    with pytest.raises(FieldError) as refused:
        check_rule(rule)

    assert refused.value.field == "custom_rule"
    assert says in refused.value.message


def test_the_rule_example_borrows_no_real_address() -> None:
    with pytest.raises(FieldError) as refused:
        check_rule("{local} x")

    assert "@example.com" in refused.value.message


def test_a_good_rule_is_returned_stripped() -> None:
    assert check_rule("  {local}.hub ") == "{local}.hub"


@pytest.mark.parametrize("email", ["a@b.c", "o'brien+tag@x.example", "UPPER@CASE.EXAMPLE"])
def test_rules_only_substitute_placeholders(email: str) -> None:
    rule = UserIdRule.parse("{local}-{domain}")

    assert rule.apply(email) == email.replace("@", "-")
    assert KALTURA_USER_ID.match(rule.apply(email))
