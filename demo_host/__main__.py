"""python -m demo_host --port 8002 --portal http://localhost:8000 --hub northwind (secret in DEMO_HOST_SECRET)."""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from demo_host import create_host_app


def main() -> None:
    parser = argparse.ArgumentParser(description="The demo host application that embeds the portal's picker.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument(
        "--portal", required=True, help="The portal's URL as browsers reach it, e.g. http://localhost:8000"
    )
    parser.add_argument("--hub", default="northwind")
    parser.add_argument("--audience", default=os.environ.get("PORTAL_EMBED_AUDIENCE", "kaltura-hub-portal"))
    args = parser.parse_args()
    secret = os.environ.get("DEMO_HOST_SECRET")
    if not secret:
        parser.error("set DEMO_HOST_SECRET to the hub's launch secret (portal embed new-secret HUB)")
    app = create_host_app(
        portal_url=args.portal, hub=args.hub, secret=secret, kid=os.environ.get("DEMO_HOST_KID"), audience=args.audience
    )
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
