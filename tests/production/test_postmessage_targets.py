"""Every postMessage the product sends, and every one its documentation tells integrators to send,
names its target origin: never ``"*"`` (reference/security.md §7.8, the lint rule)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = [
    *sorted((ROOT / "static" / "js").glob("*.js")),
    *sorted((ROOT / "demo_host" / "static").glob("*.js")),
    *sorted((ROOT / "templates").rglob("*.html")),
    ROOT / "docs" / "embedding.md",
]
# postMessage(<message>, <target>): the target is the last argument before the closing parenthesis.
CALL = re.compile(r"postMessage\s*\((?P<args>[^;]*?)\)\s*[;\n]", re.S)


def _calls() -> list[tuple[Path, str]]:
    found = []
    for path in SOURCES:
        text = path.read_text()
        found += [(path, match.group("args")) for match in CALL.finditer(text)]
    return found


def test_no_message_is_posted_to_any_origin() -> None:
    calls = _calls()
    assert calls, "no postMessage call found: the pattern or the file list is out of date"
    wildcard = [
        f"{path.relative_to(ROOT)}: postMessage({args})" for path, args in calls if re.search(r"""['"]\*['"]""", args)
    ]
    assert not wildcard, wildcard


def test_the_picker_posts_only_to_the_verified_launch_origin() -> None:
    picker = (ROOT / "static" / "js" / "picker.js").read_text()
    targets = [args.rsplit(",", 1)[-1].strip() for args in (m.group("args") for m in CALL.finditer(picker))]
    assert targets == ["hostOrigin"]
    assert 'root.getAttribute("data-host-origin")' in picker  # rendered from the verified launch
