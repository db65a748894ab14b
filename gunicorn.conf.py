"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import multiprocessing
import os

# Loopback unless told otherwise: the proxy in front is the only client, so X-Forwarded-For (trusted
# for PORTAL_PROXY_HOPS hops) cannot be spoofed by someone who reaches gunicorn directly.
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("PORTAL_THREADS", 4))  # Kaltura calls wait on the network
worker_class = "gthread"
# Well above the longest the portal waits on Kaltura (a call with its retries: 30 s; a whole connection
# test: 30 s, portal.kaltura.diagnostics.CHECK_BUDGET), so a slow Kaltura shows a message, not a killed worker.
timeout = 75
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so one leaky request cannot grow memory forever.
max_requests = 2000
max_requests_jitter = 200
preload_app = True
accesslog = "-"
errorlog = "-"
# The access log line never includes the query string: nothing secret goes there, but be sure.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms req=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
