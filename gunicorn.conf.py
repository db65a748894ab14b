"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Everything is set through environment variables (README, "Production"); the defaults suit one
instance behind a load balancer that terminates TLS. docs/operations.md explains each choice.
"""

import multiprocessing
import os

# Loopback unless told otherwise: the proxy in front is the only client, so X-Forwarded-For (trusted
# for PORTAL_PROXY_HOPS hops) cannot be spoofed by someone who reaches gunicorn directly.
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("PORTAL_THREADS", 4))  # Kaltura calls wait on the network
worker_class = "gthread"
# Well above the longest the portal itself waits on Kaltura: one picker request
# (PORTAL_PICKER_KALTURA_BUDGET, 15 s at most 60), one call with its retries (30 s), a whole
# "Test connection" (30 s, portal.kaltura.diagnostics.CHECK_BUDGET). So a slow Kaltura shows a
# message in the page; only a worker that is really stuck is killed and replaced.
timeout = int(os.environ.get("PORTAL_WORKER_TIMEOUT", 75))
# A restart (SIGHUP) or a recycled worker finishes the requests it has for this long before it is killed.
graceful_timeout = int(os.environ.get("PORTAL_GRACEFUL_TIMEOUT", 30))
keepalive = 5
# Recycle workers now and then so one leaky request cannot grow memory forever; the jitter keeps
# them from all restarting at once.
max_requests = int(os.environ.get("PORTAL_MAX_REQUESTS", 2000))
max_requests_jitter = max_requests // 10
preload_app = True
# Heartbeat files in memory, not on a disk that may stall (and be slow in containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Access and error lines as JSON on standard output (portal.logs.GunicornLogger): request id,
# method, path without its query string, status, size, duration. Never a header, a query string
# or a body, where a picker session, KS or launch token could be.
logger_class = "portal.logs.GunicornLogger"
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PORTAL_GUNICORN_LOG_LEVEL", "info")

# TLS served by gunicorn itself, when there is no terminating proxy in front (both or neither).
certfile = os.environ.get("PORTAL_TLS_CERT") or None
keyfile = os.environ.get("PORTAL_TLS_KEY") or None
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn's control socket (gunicornc) defaults to one path per user, which two instances on one
# host would fight over: off unless the operator names a socket for this instance.
if os.environ.get("PORTAL_CONTROL_SOCKET"):
    control_socket = os.environ["PORTAL_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """The app was built once in the master (preload_app): give each worker its own connections.

    A database connection made before the fork would be shared by every worker's process, and
    their queries would interleave on one socket (SQLAlchemy's advice: dispose the pool without
    closing the parent's connections). redis-py notices the fork by itself.
    """
    from wsgi import app

    app.extensions["db"].kw["bind"].dispose(close=False)
    # The Kaltura call recorder's engine (the same one on PostgreSQL, a second one on SQLite).
    app.extensions["kaltura_recorder"].engine.dispose(close=False)
