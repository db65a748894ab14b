"""The identity link's pure parts: names for Kaltura, and the member's message for each failure."""

from __future__ import annotations

import pytest

from portal.identity.links import REFUSED_ID_CODE, UNAVAILABLE_CODE, _failed_message, split_name


@pytest.mark.parametrize(
    ("display_name", "email", "expected"),
    [
        ("Pat Quinn", "pat@x.example", ("Pat", "Quinn")),
        ("Mary Ann van der Berg", "m@x.example", ("Mary", "Ann van der Berg")),
        ("  Sam   Sample  ", "sam@x.example", ("Sam", "Sample")),
        ("Cher", "cher@x.example", ("Cher", None)),
        ("", "li.wei@x.example", ("li.wei", None)),
        (None, "li.wei@x.example", ("li.wei", None)),
    ],
)
def test_split_name(display_name, email, expected):  # type: ignore[no-untyped-def]
    assert split_name(display_name, email) == expected


def test_failure_messages_name_the_cause_and_who_can_help() -> None:
    kaltura = _failed_message("INTERNAL_DATABASE_ERROR")
    assert "Kaltura answered INTERNAL_DATABASE_ERROR" in kaltura and "contact support" in kaltura
    silent = _failed_message(UNAVAILABLE_CODE)
    assert "Kaltura did not answer" in silent and UNAVAILABLE_CODE not in silent
    refused = _failed_message(REFUSED_ID_CODE)
    assert "Kaltura refuses" in refused and "user-id mapping" in refused and "Kaltura answered" not in refused
