"""The pure parts of the upload service: the hub's limit and what a member types for a file."""

from __future__ import annotations

import pytest

from portal.models import EmbedSettings
from portal.uploads.services import FileSample, limit_mb, parse_details, parse_limit, percent
from portal.validation import FieldError


def test_the_hub_limit_never_exceeds_the_operator_maximum() -> None:
    assert limit_mb(None, 20480) == 20480
    assert limit_mb(EmbedSettings(upload_max_mb=None), 20480) == 20480
    assert limit_mb(EmbedSettings(upload_max_mb=500), 20480) == 500
    # The operator lowered the maximum after the admin chose more: the maximum wins.
    assert limit_mb(EmbedSettings(upload_max_mb=9000), 4096) == 4096


@pytest.mark.parametrize(
    ("raw", "message"),
    [("0", "from 1 to 4,096 MB"), ("4097", "from 1 to 4,096 MB"), ("1.5", "whole number"), ("-3", "whole number")],
)
def test_a_limit_out_of_bounds_is_refused_on_its_field(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as refused:
        parse_limit(raw, 4096)
    assert refused.value.field == "upload_max_mb" and message in refused.value.message


def test_a_blank_limit_means_the_operator_maximum() -> None:
    assert parse_limit("  ", 4096) is None
    assert parse_limit("2048", 4096) == 2048


def test_details_default_the_name_and_clean_the_tags() -> None:
    details = parse_details({"tags": " roof , dawn,, roof ", "is_360": "on"}, "clip.mp4")
    assert details.name == "clip.mp4" and details.tags == "roof,dawn" and details.is_360
    assert not parse_details({"is_360": "0"}, "a.jpg").is_360


@pytest.mark.parametrize(
    ("form", "field"),
    [({"name": "n" * 256}, "name"), ({"tags": "t" * 61}, "tags"), ({"description": "d" * 4001}, "description")],
)
def test_details_too_long_name_the_field(form: dict[str, str], field: str) -> None:
    with pytest.raises(FieldError) as refused:
        parse_details(form, "a.jpg")
    assert refused.value.field == field


def test_the_fingerprint_is_of_the_first_bytes_only() -> None:
    head = b"\x00" * 300_000
    assert FileSample("a.mp4", 10**9, head).fingerprint == FileSample("a.mp4", 10**9, head[:262144]).fingerprint
    assert FileSample("a.mp4", 10**9, head).fingerprint != FileSample("a.mp4", 10**9, b"\x01" + head[1:]).fingerprint
    assert percent(1, 3) == 33 and percent(0, 0) == 0
