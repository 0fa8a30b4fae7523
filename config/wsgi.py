from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Pay at a worker's start what its first request would otherwise pay: the URL configuration
    (imported lazily on the first request: every view module, PDF, API schema; about 0.6 s on a
    2-CPU machine, measured by bench/analytics.py) and the managers' home page template. No
    database."""
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports the URL configuration and its views)
    get_template("analytics/dashboard.html")


_warm()
