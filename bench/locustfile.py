"""Participants in the picker, for ``bench_load`` (run by it: ``locust --headless``, not by hand).

Each virtual participant opens the picker once with its own launch token (from the JSON list in
``BENCH_LOAD_TOKENS``), then searches (as typed words and prefixes), pages and filters, pausing
like a person between actions. Every answer is recorded (start, duration, status, whether the
body is the picker's error state) and written to ``BENCH_LOAD_RECORDS`` as JSON lines when locust
stops, so bench_load computes its own figures from the raw answers.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task

SESSION = re.compile(r'name="kaltura-picker-session" content="([^"]+)"')
TOKENS: list[str] = json.loads(Path(os.environ["BENCH_LOAD_TOKENS"]).read_text())
ORIGIN = os.environ["BENCH_LOAD_ORIGIN"]
RECORDS: list[dict[str, Any]] = []
# Words of the demo catalogue, whole and as they are typed (3+ letters become Kaltura prefixes).
QUERIES = ("drone", "harb", "harbour dro", "town hall", "safety", "tour", "lead", "design", "factory", "onboard")
TYPES = ("video", "image", "audio", "360")


class Participant(FastHttpUser):
    """One participant browsing the picker."""

    wait_time = between(0.25, 1.25)

    def on_start(self) -> None:
        self.headers: dict[str, str] | None = None
        self.q = ""
        token = TOKENS.pop()
        started = time.time()
        with self.client.post(
            "/embed/picker",
            data=urlencode({"launch_token": token}),
            headers={"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
            name="launch",
            catch_response=True,
        ) as response:
            body = response.text or ""
            self._record("launch", started, response.status_code, body)
            found = SESSION.search(body)
            if response.status_code == 200 and found:
                self.headers = {"Authorization": f"Bearer {found.group(1)}", "HX-Request": "true"}
                response.success()
            else:
                response.failure(f"launch answered {response.status_code}")

    @task(3)
    def page(self) -> None:
        self._browse("page", {"q": self.q, "page": random.randint(1, 4)})

    @task(2)
    def search(self) -> None:
        self.q = random.choice(QUERIES)
        self._browse("search", {"q": self.q})

    @task(1)
    def filter(self) -> None:
        self._browse("filter", {"q": self.q, "type": random.choice(TYPES)})

    def _browse(self, kind: str, params: dict[str, Any]) -> None:
        if self.headers is None:
            return
        query = urlencode({k: v for k, v in params.items() if v})
        started = time.time()
        with self.client.get(
            f"/embed/picker/media?{query}", headers=self.headers, name=kind, catch_response=True
        ) as response:
            self._record(kind, started, response.status_code, response.text or "")
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"{response.status_code}")

    def _record(self, kind: str, started: float, status: int, body: str) -> None:
        RECORDS.append(
            {
                "kind": kind,
                "start": started,
                "end": time.time(),
                "status": status,
                # The picker's error state ("Kaltura can't be reached right now" and the like).
                "error_state": 'data-problem="' in body,
            }
        )


@events.quitting.add_listener
def _write_records(environment: Any, **_: Any) -> None:
    with open(os.environ["BENCH_LOAD_RECORDS"], "w") as out:
        for record in RECORDS:
            out.write(json.dumps(record) + "\n")
