"""gunicorn's configuration for the web process (bin/web). Every value can be
overridden from the environment, as noted; gunicorn also reads GUNICORN_CMD_ARGS."""

import multiprocessing
import os

# PORT as platforms (and compose.yaml) set it; HOST 0.0.0.0 inside a container.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Sync workers (the admin and the WMS API are short database-bound requests):
# 2 x cores + 1, or WEB_CONCURRENCY.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# Below the 30 s and 60 s of common proxies and load balancers: a stuck request
# is ended (and logged) here rather than left running after the proxy gave up.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "25"))
graceful_timeout = 20

# Recycle workers now and then (a slow leak in any library stays bounded).
max_requests = 1000
max_requests_jitter = 100

# The proxy in front terminates HTTPS and sets X-Forwarded-Proto/-For; trust it
# from these addresses only (FORWARDED_ALLOW_IPS, gunicorn's default 127.0.0.1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
# %(U)s is the path WITHOUT its query string: the OAuth callback's code and state
# and the emailed merchant link's token must never reach a log. No referer either
# (same-origin referers carry those URLs whole). The logger class also redacts a
# link token in the path and any URL atom another format might print.
logger_class = "fulfillment.monitoring.gunicorn_logging.RedactingLogger"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
