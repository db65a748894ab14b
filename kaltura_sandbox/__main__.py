"""Command line: ``python -m kaltura_sandbox serve|credentials``.

``serve --host 127.0.0.1 --port PORT [--data DIR] [--seed demo|none] [--entries N]
[--enable-control] [--conversion-delay SECONDS] [--verbose]`` serves the API at
``http://HOST:PORT/api_v3/``. Without ``--data`` the state lives in memory; with it, the database
and uploaded files live in ``DIR`` and survive a restart (an existing database is not reseeded).
``--port 0`` picks a free port. The first line printed is ``Kaltura sandbox listening on URL``.

``credentials [--data DIR]`` prints the demo partner id, admin secret and the three demo App Tokens as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from werkzeug.serving import WSGIRequestHandler, make_server

from . import media_store, services  # noqa: F401 - register schemas and every action
from . import seed as seeding
from .app import SandboxApp
from .context import SandboxConfig
from .store import DB_FILE, SCHEMA_VERSION, Store


class RedactingRequestHandler(WSGIRequestHandler):
    """Request logging (``--verbose``) without the query string and without ``/ks/...`` path
    values: KS strings are secrets and never go to a log."""

    _KS_IN_PATH = re.compile(r"(/ks/)[^/]+", re.IGNORECASE)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "")
        path = self._KS_IN_PATH.sub(r"\1***", path.split("?", 1)[0])
        self.log("info", '"%s %s" %s %s', getattr(self, "command", "-"), path, code, size)


class Sandbox:
    """A store, its configuration and the WSGI app, with reset/seed support."""

    def __init__(
        self, data_dir: Path | None, conversion_delay: float, enable_control: bool, seed: str, entries: int | None
    ) -> None:
        self._temp_dir: str | None = None
        if data_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="kaltura-sandbox-")
            files_dir = Path(self._temp_dir)
        else:
            files_dir = data_dir / "files"
        files_dir.mkdir(parents=True, exist_ok=True)
        self.config = SandboxConfig(
            conversion_delay=conversion_delay,
            data_dir=data_dir,
            files_dir=files_dir,
            enable_control=enable_control,
        )
        self.initial_delay = conversion_delay
        self.store = Store(data_dir)
        self.store.create_schema()
        seeded = self.store.get_meta("seeded")
        if seeded is not None and self.store.get_meta("schema_version") != SCHEMA_VERSION:
            # A database written by an older sandbox: its tables no longer fit. Start afresh.
            print(f"The sandbox database in {data_dir} is from an older sandbox; seeding it again.", file=sys.stderr)
            self.reset({"seed": seeded, "entries": entries})
        elif seeded is None:
            seeding.seed(self.store, seed, entries, self.config.clock())
        self.app = SandboxApp(self.store, self.config, reset=self.reset)

    def reset(self, options: dict) -> None:
        """Wipe all state and uploaded files, then seed again."""
        self.store.wipe()
        for child in self.config.files_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        self.config.conversion_delay = self.initial_delay
        entries = options.get("entries")
        seeding.seed(
            self.store, options.get("seed", "demo"), None if entries is None else int(entries), self.config.clock()
        )

    def close(self) -> None:
        """Close the database and remove the temporary files directory."""
        self.store.close()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sandbox = Sandbox(args.data, args.conversion_delay, args.enable_control, args.seed, args.entries)
    server = make_server(args.host, args.port, sandbox.app, threaded=True, request_handler=RedactingRequestHandler)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host
    print(f"Kaltura sandbox listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        sandbox.close()
    return 0


def _credentials(args: argparse.Namespace) -> int:
    if args.data is not None and (args.data / DB_FILE).exists():
        store = Store(args.data)
        store.create_schema()
    else:
        # Without a database the demo account is rebuilt in memory: it is deterministic.
        store = Store(None)
        store.create_schema()
        seeding.seed_account(store)
    try:
        print(json.dumps(seeding.credentials(store), indent=2))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``serve`` and ``credentials`` sub-commands."""
    parser = argparse.ArgumentParser(
        prog="python -m kaltura_sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--data", type=Path, default=None, help="persist state in this directory")
    serve.add_argument("--seed", choices=("demo", "none"), default="demo")
    serve.add_argument(
        "--entries", type=int, default=None, help=f"number of demo entries (default {seeding.DEFAULT_ENTRIES})"
    )
    serve.add_argument("--enable-control", action="store_true", help="expose the /__control/ test surface")
    serve.add_argument(
        "--conversion-delay",
        type=float,
        default=3.0,
        help="seconds from addContent to READY for video/audio (default 3)",
    )
    serve.add_argument("--verbose", action="store_true", help="log every request")
    serve.set_defaults(func=_serve)
    creds = commands.add_parser("credentials", help="print the demo credentials as JSON")
    creds.add_argument("--data", type=Path, default=None)
    creds.set_defaults(func=_credentials)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m kaltura_sandbox``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
