"""Which characters a person can type (portal.text): the checks every form field and the CLI share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.text import displayable, has_visible_text, is_refused, text_problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ada\x00", "a NUL character (U+0000) at character 4"),
        ("\ud800x", "an unpaired surrogate (U+D800)"),
        ("a\x1bb", "an invisible control character (U+001B) at character 2"),
        ("a\x85", "an invisible control character (U+0085)"),
        ("evil\u202etxt", "an invisible text-direction control (U+202E)"),
        ("bad\ufffd", "could not be read (U+FFFD"),
        ("two\nlines", "(U+000A)"),
    ],
)
def test_refused_characters_are_named_with_their_position(text: str, expected: str) -> None:
    problem = text_problem(text)
    assert problem is not None and expected in problem


@pytest.mark.parametrize("text", ["Ada Lovelace", "Zoë — 東京", "tab\there", "emoji 🎬 ok", "a\u200db"])
def test_what_people_type_is_accepted(text: str) -> None:
    assert text_problem(text) is None


def test_line_breaks_are_fine_where_several_lines_are_expected() -> None:
    assert text_problem('{\r\n  "id": "0_x"\n}', multiline=True) is None
    assert text_problem("a\x00\nb", multiline=True) is not None


@given(st.text())
def test_displayable_text_is_always_clean_and_encodable(text: str) -> None:
    shown = displayable(text)
    assert len(shown) == len(text)
    assert not any(is_refused(char) for char in shown if char != "\ufffd")
    shown.encode("utf-8")  # never a lone surrogate left to break a page


@pytest.mark.parametrize(
    ("text", "visible"), [("   ", False), ("\u200b\u200b", False), ("\u3000", False), ("· ", True), ("x", True)]
)
def test_visible_text(text: str, visible: bool) -> None:
    assert has_visible_text(text) is visible
