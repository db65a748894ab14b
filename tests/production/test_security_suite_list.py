"""The reliability and security suite's list (tests/conftest.py) names tests that exist: a renamed
file or test must not silently drop out of ``-m security``."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SECURITY_SUITE

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_entry_names_an_existing_file_or_test() -> None:
    missing = []
    for entry in SECURITY_SUITE:
        path, _, name = entry.partition("::")
        file = ROOT / path
        if not file.is_file() or (name and f"def {name}(" not in file.read_text()):
            missing.append(entry)
    assert not missing, missing


def test_the_suite_covers_each_requirement_area() -> None:
    text = " ".join(SECURITY_SUITE)
    for area in ("authorization", "security_headers", "csrf", "picker_session", "embed_launch", "ssrf", "restart"):
        assert area in text, area
