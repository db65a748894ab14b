"""Run a sandbox as a real subprocess for tests and benchmarks (stdlib only).

    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        sandbox.url            # "http://127.0.0.1:PORT"
        sandbox.credentials    # the ``credentials`` JSON as a dict
        sandbox.control("fault", action="media.list", count=1, kind="http_503")
        sandbox.calls()        # {"media.list": 3, ...}

The server listens on a free port chosen by the OS (``--port 0``); its output goes to a log file
(``sandbox.log_path``) so a chatty server can never block on a full pipe.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

_GET_CONTROLS = ("calls", "credentials", "fault_rates")


class SandboxError(RuntimeError):
    """The sandbox process did not start or a control call failed."""


class SandboxProcess:
    """A ``python -m kaltura_sandbox serve`` subprocess on 127.0.0.1 and a client for its controls."""

    def __init__(
        self,
        *,
        data_dir: Path | str | None = None,
        seed: str = "demo",
        entries: int | None = None,
        enable_control: bool = True,
        conversion_delay: float = 0.0,
        extra_args: tuple[str, ...] = (),
        python: str = sys.executable,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.args = [
            python,
            "-m",
            "kaltura_sandbox",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            seed,
            "--conversion-delay",
            str(conversion_delay),
        ]
        if entries is not None:
            self.args += ["--entries", str(entries)]
        if self.data_dir is not None:
            self.args += ["--data", str(self.data_dir)]
        if enable_control:
            self.args.append("--enable-control")
        self.args += list(extra_args)
        self.enable_control = enable_control
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._log_dir = tempfile.mkdtemp(prefix="kaltura-sandbox-log-")
        self.log_path = Path(self._log_dir) / "sandbox.log"
        self._credentials: dict | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> SandboxProcess:
        """Start the process and wait until it answers ``system.ping``."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(Path(__file__).resolve().parent.parent),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SandboxError(f"sandbox exited early:\n{self.log_text()}")
            if not self.url:
                self.url = self._announced_url()
            if self.url and self._pings():
                return self
            time.sleep(0.05)
        self.stop()
        raise SandboxError(f"sandbox did not answer within {timeout}s:\n{self.log_text()}")

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_text(self) -> str:
        """The server's output so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _announced_url(self) -> str:
        for line in self.log_text().splitlines():
            if line.startswith("Kaltura sandbox listening on "):
                return line.rsplit(" ", 1)[-1].strip()
        return ""

    def _pings(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"{self.url}/api_v3/service/system/action/ping?format=1", timeout=2
            ) as response:
                return response.read().strip() == b"true"
        except (OSError, urllib.error.URLError):
            return False

    # -- API helpers ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The service URL for Kaltura clients (``serviceUrl``)."""
        return self.url

    @property
    def credentials(self) -> dict:
        """The demo credentials (partner id, admin secret, the three App Tokens as JSON)."""
        if self._credentials is None:
            if self.enable_control:
                self._credentials = self.control("credentials")
            else:
                self._credentials = self.cli_credentials()
        return self._credentials

    def cli_credentials(self) -> dict:
        """The output of ``python -m kaltura_sandbox credentials [--data DIR]``."""
        args = [self.args[0], "-m", "kaltura_sandbox", "credentials"]
        if self.data_dir is not None:
            args += ["--data", str(self.data_dir)]
        output = subprocess.run(
            args,
            check=True,
            capture_output=True,
            timeout=60,
            cwd=str(Path(__file__).resolve().parent.parent),
        ).stdout
        return json.loads(output)

    def control(self, path: str, **payload: Any) -> Any:
        """Call ``/__control/<path>`` (GET for ``calls``/``credentials``, else POST JSON)."""
        if not self.enable_control:
            raise SandboxError("the sandbox runs without --enable-control")
        url = f"{self.url}/__control/{path.strip('/')}"
        if path.strip("/") in _GET_CONTROLS:
            request = urllib.request.Request(url, method="GET")
        else:
            request = urllib.request.Request(
                url,
                data=json.dumps(payload).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            exc.close()
            raise SandboxError(f"control {path} failed: {exc.code} {detail}") from None

    def calls(self) -> dict[str, int]:
        """The per-action call counters (``"service.action"`` -> count)."""
        return self.control("calls")

    def reset(self, seed: str = "demo", entries: int | None = None) -> None:
        """Reset to a fresh seed (also clears faults, latency, counters and the credentials cache)."""
        payload: dict[str, Any] = {"seed": seed}
        if entries is not None:
            payload["entries"] = entries
        self.control("reset", **payload)
