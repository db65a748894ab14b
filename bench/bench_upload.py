"""Uploads: the chunk pump in Chromium against one plain HTTP upload of the same file from the same
browser to the same sandbox, measured in the same run; and the portal's memory while it happens.

The portal runs under gunicorn.conf.py with one worker (so its memory is one process's), the
sandbox is its own process, and Chromium opens the picker the way a host application does (a
page on another origin posts the launch token into an iframe). The pump upload is the real one:
"Choose files", "Upload", the portal's check and prepare, then the chunks straight to the
sandbox; it is timed in the browser's clock from its first chunk's request to its final chunk's
answer (the portal's prepare is not the pump's work). The plain upload is one
``uploadToken.upload`` of the whole file (``resume=0``, ``finalChunk=1``) sent by ``fetch`` from
the same picker page to the same sandbox, with a token and session of the same member. A third
upload sends the same single request with ``file.slice(0, size)`` in place of the File: Chromium
sends a File it can name straight from disk, but every Blob (so every part of a file a chunked
uploader sends) through its blob storage and a data pipe, at about twice the CPU per byte. On a
machine where the browser's CPU is the limit (two cores over loopback) that single slice is the
ceiling of any chunked upload, and ``upload_pump_vs_slice_ratio`` is what chunking itself costs.
The three take turns going first; the sandbox stores the bytes in tmpfs where there is one, and
each upload's bytes are deleted once measured (see ``_free``); the figures are the best of each
(3 rounds). A last round sends the File and the pump over a link that Chromium's network
emulation holds to 50 MB/s with 20 ms latency (``upload_link_ratio``): there the link is the
limit, as on a real network, not the browser's CPU.

``portal_rss_growth_mb`` is the worker's peak resident memory during the pump upload minus its
resident memory just before: the bytes never pass through the portal, so it does not grow with
the file.

Usage: .venv/bin/python -m bench --only upload   (or: .venv/bin/python bench/bench_upload.py [--quick])
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack
from bench.figures import Figure, table
from kaltura_sandbox.testing import SandboxProcess

USER = "pat@northwind.example"
MB = 1024 * 1024
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
#: The emulated link of the last round, bytes/s up (BENCH_UPLOAD_LINK_MB_S, 0 to skip it).
LINK = float(os.environ.get("BENCH_UPLOAD_LINK_MB_S", "50")) * MB
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

PLAIN_UPLOAD_JS = """async ([url, ks, tokenId, sliced]) => {
  const input = document.getElementById("bench-file").files[0];
  // sliced: the same bytes as a Blob (file.slice), the only way a chunked uploader can send a part.
  const file = sliced ? input.slice(0, input.size) : input;
  const form = new FormData();
  form.append("ks", ks);
  form.append("uploadTokenId", tokenId);
  form.append("resume", "0");
  form.append("finalChunk", "1");
  form.append("resumeAt", "0");
  form.append("fileData", file, input.name);
  const started = performance.now();
  const response = await fetch(url, { method: "POST", body: form, credentials: "omit" });
  const answer = await response.json();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, size: Number(answer.uploadedFileSize), status: answer.status };
}"""


def _host_app(portal_url: str, token: str):  # type: ignore[no-untyped-def]
    """A host application's page: it posts the launch token into the picker's iframe."""
    page = f"""<!doctype html><html><body>
<form id="launch" method="post" action="{portal_url}/embed/picker" target="picker">
<input type="hidden" name="launch_token" value="{token}"></form>
<iframe name="picker" id="picker" style="width:1200px;height:900px"></iframe>
<script>document.getElementById("launch").submit();</script></body></html>""".encode()

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(page)))])
        return [page]

    return app


class RssWatch:
    """Samples the resident memory of some processes every 20 ms; ``peak`` is the highest sum."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        total = 0
        for pid in self.pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self) -> RssWatch:
        self.peak = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.peak = max(self.peak, self.now())


def _span(request: Any) -> tuple[float, float]:
    """When a request started and when its answer ended, in seconds of the browser's clock."""
    timing = request.timing
    start = timing["startTime"] / 1000
    return start, start + max(timing["responseEnd"], 0) / 1000


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _file(path: Path, size: int) -> None:
    """A 360° MP4 of ``size`` bytes: the sniffer's spherical ``sv3d`` box, then random media data."""
    from tests.unit.uploads import media_files as m

    head = m.mp4(m.video_trak(3840, 1920, children=m.sv3d()), mdat_size=0)[:-8]  # without its empty mdat
    body = size - len(head) - 8
    block = os.urandom(4 * MB)
    with open(path, "wb") as out:
        out.write(head + (body + 8).to_bytes(4, "big") + b"mdat")
        left = body
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)
        # On disk now, not later: the kernel's write-back would otherwise land in some upload's time.
        out.flush()
        os.fsync(out.fileno())
    assert path.stat().st_size == size


def _plain_target(sandbox: SandboxProcess, size: int, name: str) -> tuple[str, str]:
    """A session of the member and a fresh upload token for the plain upload."""
    from portal.kaltura import GatewaySettings, KalturaGateway, parse_app_token

    token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
    assert token is not None
    with KalturaGateway(GatewaySettings(allowed_hosts=[sandbox.url])) as gateway:
        ks = gateway.upload_session(sandbox.url, token, USER, expiry=3600).ks
        upload_token = gateway.add_upload_token(sandbox.url, token, USER, file_name=name, file_size=size)
    return ks, upload_token.id


def _free(store: Path) -> None:
    """Delete the bytes the sandbox has stored so far (the bench needs none of them again).

    Each upload then writes into memory this machine has just used. On a virtual machine the first
    touch of fresh memory is slow and uneven (the host backs the page then): without this, uploads
    got slower round after round (the sandbox's CPU for the same 500 MB doubled by the fifth), and
    whichever upload came later paid for it.
    """
    for path in (store / "files").rglob("*"):
        if path.is_file():
            path.unlink(missing_ok=True)


class Round:
    """One picker page in Chromium that uploads the same file both ways."""

    def __init__(
        self,
        browser: Any,
        host_origin: str,
        sandbox: SandboxProcess,
        source: Path,
        pids: list[int],
        link: float | None = None,
    ) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.sandbox = sandbox
        self.source = source
        self.size = source.stat().st_size
        self.pids = pids
        assert sandbox.process is not None
        self.sandbox_pid = sandbox.process.pid
        # Every uploadToken.upload the page sends: (start, end) in the browser's own clock.
        self.sent: list[tuple[float, float]] = []
        self.page.on("requestfinished", self._seen)
        self.page.goto(host_origin)
        self.frame = self.page.frame_locator("#picker")
        self.frame.locator("#picker-upload[data-ready]").wait_for(timeout=60000)
        picker = self.page.frame(name="picker")
        assert picker is not None
        self.picker = picker
        if link:
            # A link of `link` bytes/s up with 20 ms of latency for every request of the page and
            # its picker frame (Chromium's own network emulation, shared by all their requests).
            devtools = self.context.new_cdp_session(self.page)
            devtools.send("Network.enable")
            devtools.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": link},
            )

    def _seen(self, request: Any) -> None:
        if "/uploadToken/action/upload" in request.url:
            self.sent.append(_span(request))

    def plain(self, sliced: bool = False) -> tuple[float, float]:
        """One request with the whole file, from the same page: (seconds, sandbox CPU seconds).

        ``sliced`` sends ``file.slice(0, size)`` instead of the File: Chromium reads a File it
        can name from disk itself, but sends any Blob (every slice) through its blob storage
        and a data pipe, which costs it about twice the CPU per byte (measured with this bench).
        """
        if not self.picker.evaluate("() => !!document.getElementById('bench-file')"):
            self.picker.evaluate(
                "() => { const i = document.createElement('input'); i.type = 'file'; "
                "i.id = 'bench-file'; i.hidden = true; document.body.append(i); }"
            )
            self.picker.set_input_files("#bench-file", str(self.source))
        ks, token_id = _plain_target(self.sandbox, self.size, self.source.name)
        url = f"{self.sandbox.url}/api_v3/service/uploadToken/action/upload?format=1"
        cpu = _cpu_seconds(self.sandbox_pid)
        answer = self.picker.evaluate(PLAIN_UPLOAD_JS, [url, ks, token_id, sliced])
        assert answer["size"] == self.size, answer
        cpu = _cpu_seconds(self.sandbox_pid) - cpu
        self._free()
        return answer["seconds"], cpu

    def pump(self) -> tuple[float, float, float]:
        """The chunk pump, as a member uses it: (seconds, sandbox CPU seconds, portal RSS growth MB)."""
        self.frame.get_by_label("Choose files").set_input_files(str(self.source))
        self.frame.locator('.upload-item[data-state="ready"]').wait_for(timeout=60000)
        cpu = _cpu_seconds(self.sandbox_pid)
        first = len(self.sent)
        with RssWatch(self.pids) as watch:
            before = watch.peak
            with self.page.expect_response(
                lambda r: r.url.endswith("/embed/picker/uploads") and r.request.method == "POST", timeout=60000
            ) as prepared:
                self.frame.locator("#upload-start").click()
            answer = json.loads(prepared.value.text())
            assert answer.get("ok"), answer
            self.frame.locator('.upload-item[data-state="done"]').wait_for(timeout=600000)
            time.sleep(0.2)  # the last requestfinished event reaches Python
        # The pump's time: its first chunk sent to its final chunk answered, in the browser's clock,
        # as the plain upload is timed around its one fetch (the portal's prepare is not the pump's work).
        spans = self.sent[first:]
        assert len(spans) >= 2, spans
        seconds = max(end for _, end in spans) - min(begin for begin, _ in spans)
        cpu = _cpu_seconds(self.sandbox_pid) - cpu
        self._free()
        return seconds, cpu, (watch.peak - before) / MB

    def _free(self) -> None:
        if self.sandbox.data_dir is not None:
            _free(self.sandbox.data_dir)

    def close(self) -> None:
        self.context.close()


def collect(quick: bool = False) -> list[Figure]:
    """upload_throughput_ratio and portal_rss_growth_mb (plus both throughputs)."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    if not CHROMIUM.exists():
        raise RuntimeError(f"bench_upload needs Chromium at {CHROMIUM} (apt-get install chromium)")
    size = (100 if quick else 500) * MB
    rounds = 1 if quick else 3
    workdir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    source = workdir / "bench-360.mp4"
    _file(source, size)
    database = f"sqlite:///{workdir / 'portal.sqlite3'}"
    rates: dict[str, list[float]] = {"plain": [], "slice": [], "pump": []}
    on_link: dict[str, float] = {}
    growth: list[float] = []
    # The sandbox keeps what it receives in memory (tmpfs) when it can: both uploads go to the same
    # place, and neither pays for this machine's disk (Kaltura's storage is not what is measured).
    shm = Path("/dev/shm")
    store = Path(tempfile.mkdtemp(prefix="bench-upload-kaltura-", dir=shm if shm.is_dir() else None))
    # BENCH_UPLOAD_SETTINGS="PORTAL_UPLOAD_PARALLELISM=3,PORTAL_UPLOAD_MAX_CHUNK_BYTES=16777216" tries
    # other upload plans; without it the portal's defaults are measured.
    tried = dict(item.split("=", 1) for item in os.environ.get("BENCH_UPLOAD_SETTINGS", "").split(",") if "=" in item)
    try:
        with SandboxProcess(enable_control=True, conversion_delay=0, data_dir=store) as sandbox:
            host = make_server("127.0.0.1", 0, lambda e, s: [b""], threaded=True)
            host_origin = f"http://127.0.0.1:{host.server_port}"
            env = stack.portal_env(database, sandbox_url=sandbox.url, workdir=workdir, production=False, **tried)
            secret = stack.prepare(env, sandbox, origin=host_origin)
            threading.Thread(target=host.serve_forever, daemon=True).start()
            with stack.Gunicorn(env, workers=1) as node, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                try:
                    for number in range(rounds):
                        host.app = _host_app(node.url, stack.launch_token(secret, USER, origin=host_origin))  # type: ignore[attr-defined]
                        run = Round(browser, host_origin, sandbox, source, node.worker_pids())
                        # Rotate which goes first, so none always inherits another's writes.
                        uploads = {
                            "plain": run.plain,
                            "slice": functools.partial(run.plain, sliced=True),
                            "pump": run.pump,
                        }
                        order = list(uploads)[number % 3 :] + list(uploads)[: number % 3]
                        measured = {name: uploads[name]() for name in order}
                        run.close()
                        for name, result in measured.items():
                            rates[name].append(size / result[0])
                        growth.append(measured["pump"][2])
                        print(
                            f"   round {number + 1}: "
                            + ", ".join(f"{name} {rates[name][-1] / MB:.0f} MB/s" for name in uploads)
                            + f"; portal RSS +{growth[-1]:.1f} MB; sandbox CPU "
                            + ", ".join(f"{measured[name][1]:.1f} s {name}" for name in uploads),
                            file=sys.stderr,
                        )
                    if LINK:
                        # Where the link is the limit, as on any real network, not the browser's CPU.
                        host.app = _host_app(node.url, stack.launch_token(secret, USER, origin=host_origin))  # type: ignore[attr-defined]
                        run = Round(browser, host_origin, sandbox, source, node.worker_pids(), link=LINK)
                        on_link = {"plain": run.plain()[0], "pump": run.pump()[0]}
                        run.close()
                        print(
                            f"   on a {LINK / MB:.0f} MB/s link: plain {size / on_link['plain'] / MB:.1f} MB/s, "
                            f"pump {size / on_link['pump'] / MB:.1f} MB/s",
                            file=sys.stderr,
                        )
                finally:
                    browser.close()
            host.shutdown()
    finally:
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    pump, plain, sliced = max(rates["pump"]), max(rates["plain"]), max(rates["slice"])
    label = f"{size // MB} MB"
    return [
        Figure("upload_pump_mb_s", pump / MB, "MB/s", baseline=plain / MB, note=f"chunk pump in Chromium, {label}"),
        Figure(
            "upload_throughput_ratio",
            pump / plain,
            "x",
            note=f"chunk pump ÷ one plain HTTP upload of the same {label} from the same browser (target ≥ 0.8); "
            f"best of {rounds} each",
        ),
        Figure(
            "upload_slice_ratio",
            sliced / plain,
            "x",
            note="one request with file.slice(0, size) ÷ the same with the File: what Chromium's Blob path costs "
            "any uploader that sends parts of a file (the ceiling of upload_throughput_ratio here)",
        ),
        Figure(
            "upload_pump_vs_slice_ratio",
            pump / sliced,
            "x",
            note="chunk pump ÷ one request with file.slice(0, size): what chunking, parallelism and resuming cost",
        ),
        *(
            [
                Figure(
                    "upload_link_ratio",
                    on_link["plain"] / on_link["pump"],
                    "x",
                    note=f"chunk pump ÷ the plain upload on a {LINK / MB:.0f} MB/s link with 20 ms latency "
                    "(Chromium's network emulation), one round",
                )
            ]
            if LINK
            else []
        ),
        Figure(
            "portal_rss_growth_mb",
            max(growth),
            "MB",
            note=f"the portal worker's peak RSS growth while {label} went to Kaltura (the bytes never reach it)",
        ),
    ]


if __name__ == "__main__":
    print(table(collect(quick="--quick" in sys.argv)))
