"""The sandbox's listing and search speed at the demo size and at 100,000 entries.

Usage: .venv/bin/python bench/bench_sandbox.py [--entries 100000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kaltura_sandbox.testing import SandboxProcess


def client_ks(url: str, credentials: dict, user: str) -> str:
    token = credentials["clientAppToken"]
    api = f"{url}/api_v3/service"
    widget = requests.post(
        f"{api}/session/action/startWidgetSession",
        json={"format": 1, "widgetId": f"_{credentials['partnerId']}"},
        timeout=30,
    ).json()["ks"]
    digest = hashlib.sha256((widget + token["token"]).encode()).hexdigest()
    answer = requests.post(
        f"{api}/appToken/action/startSession",
        json={"format": 1, "ks": widget, "id": token["id"], "tokenHash": digest, "userId": user},
        timeout=30,
    ).json()
    return answer["ks"]


def measure(url: str, ks: str, filter_: dict, rounds: int) -> tuple[float, int]:
    session = requests.Session()
    body = {
        "format": 1,
        "ks": ks,
        "filter": {"objectType": "KalturaMediaEntryFilter", **filter_},
        "pager": {"objectType": "KalturaFilterPager", "pageSize": 30, "pageIndex": 1},
    }
    samples, total = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        answer = session.post(f"{url}/api_v3/service/media/action/list", json=body, timeout=60).json()
        samples.append(time.perf_counter() - start)
        total = answer.get("totalCount", 0)
    session.close()
    return statistics.median(samples) * 1000, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    cases = {
        "newest first": {"orderBy": "-createdAt"},
        "free text 'drone'": {"freeText": "drone", "orderBy": "-createdAt"},
        "free text, no match": {"freeText": "zebra", "orderBy": "-createdAt"},
        # Search as you type: a word needs its "*" to match by prefix (reference §4.1).
        "free text 'dro*'": {"freeText": "dro*", "orderBy": "-createdAt"},
        "videos, by plays": {"mediaTypeEqual": 1, "orderBy": "-plays"},
        "tag 360": {"tagsMultiLikeOr": "360", "orderBy": "-createdAt"},
    }
    for size in (None, args.entries):
        start = time.perf_counter()
        with SandboxProcess(enable_control=False, entries=size) as sandbox:
            started = time.perf_counter() - start
            ks = client_ks(sandbox.url, sandbox.credentials, "pat@northwind.example")
            label = f"{size:,} entries" if size else "demo seed"
            print(f"{label}: sandbox up in {started:.1f} s")
            for name, filter_ in cases.items():
                median, total = measure(sandbox.url, ks, filter_, args.rounds)
                print(f"  {name:<22} median {median:7.2f} ms  (totalCount {total})")


if __name__ == "__main__":
    main()
