"""gunicorn settings for `make serve` (command-line flags, e.g. --bind, override these).

Environment: WEB_CONCURRENCY (worker processes, default 2 per core plus 1, gunicorn's own advice:
a sync worker also waits while PostgreSQL works; `make loadtest` saturated 3 workers on 2 cores), GUNICORN_TIMEOUT
(seconds a request may take, default 120: a 200 MB upload on a slow link), FORWARDED_ALLOW_IPS
(addresses of the TLS proxy allowed to set X-Forwarded-* headers, default 127.0.0.1).
"""

from __future__ import annotations

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# Path only, no query string, referrer or user agent: claim filters put patient control
# numbers in query strings, and an access log is no place for patient data.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
