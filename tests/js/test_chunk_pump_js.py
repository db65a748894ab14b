"""Runs the chunk pump's own tests (``static/js/chunk_pump.js``) in Node's built-in test runner, so
``make test`` and CI run them: the fake-transport tests and the protocol tests against a real
sandbox process under its faults (``tests/js/*.test.mjs``). Fails when any of them fails.

Node ≥ 20.19 is required (it loads the ``.js`` module as ES module and has ``fetch``, ``Blob``,
``FormData``); ``make install`` already needs Node and npm, and CI has them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TEST_FILES = sorted(HERE.glob("*.test.mjs"))
#: JS tests skipped on purpose, each waiting for something named in its title.
KNOWN_SKIPS: set[str] = set()
MINIMUM_NODE = (20, 19)


def node_binary() -> str:
    """The ``node`` to run, failing (not skipping) when it is missing or too old."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed: the chunk pump's tests need Node ≥ 20.19 (make install needs it too)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if numbers < MINIMUM_NODE:
        pytest.fail(f"Node {version.strip()} is too old for the chunk pump's tests: Node ≥ 20.19 is needed")
    return node


def test_the_chunk_pump_passes_its_node_tests() -> None:
    assert TEST_FILES, "no tests/js/*.test.mjs found"
    command = [
        node_binary(),
        "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON",
        "--test",
        "--test-reporter=tap",
        "--test-timeout=120000",  # per JS test: a hang fails that test, not the whole run
        *map(str, TEST_FILES),
    ]
    env = {**os.environ, "PYTHON": sys.executable}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280, check=False)
    output = run.stdout + run.stderr
    counts = {key: int(value) for key, value in re.findall(r"^# (pass|fail|skipped|cancelled) (\d+)$", output, re.M)}
    assert run.returncode == 0 and counts.get("fail") == 0 and counts.get("cancelled") == 0, output[-20000:]
    assert counts.get("pass", 0) >= 30, output[-20000:]
    skipped = {
        title
        for title in re.findall(r"^ok \d+ - (.*?) # SKIP", output, re.M)
        if not any(title.startswith(known) for known in KNOWN_SKIPS)
    }
    assert not skipped, f"unexpected skipped JS tests: {skipped}"
