"""The portal as it runs in production, on this machine: gunicorn (gunicorn.conf.py) on a database,
optionally Redis, and a Kaltura sandbox, all on loopback.

Used by the benchmarks (``bench_picker``, ``bench_load``), the CI smoke test
(``tests/production/smoke.py``) and the restart test (``tests/production/test_restart.py``):

    env = portal_env(database_url, sandbox_url=sandbox.url, redis_url=..., production=True)
    secret = prepare(env, sandbox, origin=HOST_ORIGIN)     # migrate, seed, connect, allow the host
    with Gunicorn(env, workers=2, tls=self_signed(workdir)) as node:
        requests.get(node.url + "/healthz", verify=node.ca)

Nothing here weakens the production settings: the sandbox is allowed the way an operator allows a
self-hosted Kaltura (``PORTAL_KALTURA_ALLOWED_HOSTS=http://127.0.0.1:PORT``, a literal loopback
address the operator lists), and TLS is real TLS with a certificate made for 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST_ORIGIN = "http://127.0.0.1:9"  # a host application's origin (nothing needs to listen there)
HUB = "northwind"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def new_keyring() -> str:
    return "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()


def portal_env(
    database_url: str,
    *,
    sandbox_url: str,
    workdir: Path,
    redis_url: str | None = None,
    production: bool = True,
    **extra: str,
) -> dict[str, str]:
    """The environment a portal process gets: only ``PORTAL_*`` variables, as an operator sets them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_ENV": "production" if production else "development",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
            "PORTAL_ENCRYPTION_KEYS": new_keyring(),
            "PORTAL_KALTURA_ALLOWED_HOSTS": sandbox_url,
            "PORTAL_LOG_FORMAT": "json",
            # Not a portal setting: where this stack keeps its logs and certificate.
            "STACK_WORKDIR": str(workdir),
        }
    )
    if redis_url:
        env["PORTAL_REDIS_URL"] = redis_url
    env.update(extra)
    return env


def app_overrides(env: dict[str, str]) -> dict[str, Any]:
    """The settings of ``env`` as ``create_app`` overrides, for work done in this process."""
    names = ("ENV", "DATABASE_URL", "SECRET_KEY", "ENCRYPTION_KEYS", "KALTURA_ALLOWED_HOSTS", "REDIS_URL")
    settings: dict[str, Any] = {name: env[f"PORTAL_{name}"] for name in names if f"PORTAL_{name}" in env}
    settings["INSTANCE_PATH"] = str(Path(env["STACK_WORKDIR"]) / "instance")
    return settings


def reset_database(database_url: str) -> None:
    """Drop every table and migrate to the newest revision."""
    import sqlalchemy as sa

    from portal import migrations
    from portal.db import Base, make_engine

    engine = make_engine(database_url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    migrations.migrate(engine, "head")
    engine.dispose()


def create_postgres_database(admin_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server of ``admin_url``; returns its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return str(sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False))


def prepare(env: dict[str, str], sandbox: Any, *, origin: str = HOST_ORIGIN, connect: bool = True) -> str:
    """Migrate, seed the demo, connect the demo hub to the sandbox (unless ``connect`` is false: the
    caller does it through the Kaltura tab) and let ``origin`` embed it.

    Returns the hub's launch-signing secret (what a host application's backend keeps).
    """
    from datetime import timedelta

    from portal import create_app
    from portal.demo import seed_demo
    from portal.embed import services as embed_services
    from portal.integrations.services import Typed, save_connection
    from portal.models import Hub

    reset_database(env["PORTAL_DATABASE_URL"])
    app = create_app(app_overrides(env))
    try:
        with app.app_context():
            db = app.extensions["db"]()
            seed_demo(db)
            hub = db.query(Hub).filter_by(slug=HUB).one()
            if connect:
                report = save_connection(
                    db,
                    gateway=app.extensions["kaltura"],
                    vault=app.extensions["kaltura_vault"],
                    hub=hub,
                    actor=None,
                    typed=Typed(
                        service_url=sandbox.url,
                        client_text=json.dumps(sandbox.credentials["clientAppToken"]),
                        server_text=json.dumps(sandbox.credentials["serverAppToken"]),
                    ),
                )
                if not report.saved:
                    raise RuntimeError(f"connecting the demo hub failed: {[e.message for e in report.problems]}")
            embed_services.add_origin(db, hub=hub, origin=origin, actor=None)
            created = embed_services.new_secret(
                db, hub=hub, keyring=app.extensions["kaltura_vault"].keyring, actor=None, grace=timedelta(hours=1)
            )
            db.close()
    finally:
        app.extensions["kaltura"].close()
        app.extensions["db"].kw["bind"].dispose()
    return created.secret


def launch_token(secret: str, email: str, *, origin: str = HOST_ORIGIN, name: str | None = None) -> str:
    """A launch token for ``email`` as a host application's backend mints one."""
    from portal.embed.launch import mint_launch_token

    return mint_launch_token(
        secret, hub=HUB, email=email, origin=origin, audience="kaltura-hub-portal", name=name, ttl=600
    )


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost (a day long), made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "portal-cert.pem", directory / "portal-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` on a free loopback port, its output in a log file."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int | None = 2,
        threads: int | None = None,
        tls: tuple[Path, Path] | None = None,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.tls = tls
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.env = {**env, "PORTAL_BIND": f"127.0.0.1:{self.port}"}
        if workers is not None:  # else gunicorn.conf.py's production default
            self.env["PORTAL_WORKERS"] = str(workers)
        if threads is not None:
            self.env["PORTAL_THREADS"] = str(threads)
        if tls:
            self.env["PORTAL_TLS_CERT"], self.env["PORTAL_TLS_KEY"] = str(tls[0]), str(tls[1])
        self.env.update(extra_env or {})
        self.log_path = log_path or Path(env["STACK_WORKDIR"]) / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def verify(self) -> str | bool:
        """What ``requests`` needs to trust this node: its own certificate."""
        return str(self.tls[0]) if self.tls else True

    def start(self, timeout: float = 90.0) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_text()[-4000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=2, verify=self.verify).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_text()[-4000:]}")

    def worker_pids(self) -> list[int]:
        """The master's worker processes (its children), from /proc."""
        assert self.process is not None
        master = self.process.pid
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == master:
                children.append(int(entry.name))
        return sorted(children)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it takes longer than gunicorn's graceful timeout."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
