"""Kaltura calls per listing through the gateway, and its overhead over one direct media.list.

Usage: .venv/bin/python bench/bench_gateway.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura import GatewaySettings, KalturaGateway, parse_app_token


def timed(function, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
        assert token is not None
        with KalturaGateway(GatewaySettings(allowed_hosts=[sandbox.url])) as gateway:
            user = "pat@northwind.example"
            sandbox.control("calls/reset")
            gateway.list_media(sandbox.url, token, user)
            cold = sum(sandbox.calls().values())
            sandbox.control("calls/reset")
            for _ in range(10):
                gateway.list_media(sandbox.url, token, user)
            warm = sum(sandbox.calls().values()) / 10
            portal_times = timed(lambda: gateway.list_media(sandbox.url, token, user), rounds)

            ks = gateway.start_session(sandbox.url, token, user).ks
            session = requests.Session()
            body = {
                "format": 1,
                "ks": ks,
                "filter": {"objectType": "KalturaMediaEntryFilter", "orderBy": "-createdAt", "statusIn": "0,1,2,4,7"},
                "pager": {"objectType": "KalturaFilterPager", "pageSize": 30, "pageIndex": 1},
            }
            url = f"{sandbox.url}/api_v3/service/media/action/list"
            direct_times = timed(lambda: session.post(url, json=body, timeout=30).json(), rounds)
            session.close()

    portal_ms = statistics.median(portal_times) * 1000
    direct_ms = statistics.median(direct_times) * 1000
    print(f"Kaltura calls, first listing (session minted):  {cold}")
    print(f"Kaltura calls per listing, session cached:      {warm:.2f}")
    print(f"gateway list_media median:  {portal_ms:.2f} ms  ({rounds} rounds)")
    print(f"direct media.list median:   {direct_ms:.2f} ms")
    print(f"gateway / direct ratio:     {portal_ms / direct_ms:.2f}")


if __name__ == "__main__":
    main()
