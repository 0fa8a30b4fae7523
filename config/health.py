"""/healthz: does this web process reach its database and its broker?

Public (a load balancer or monitor has no account) and therefore says nothing a stranger
could use: no host names, no URLs, no counts, just whether each dependency answered.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT_SECONDS = 3
logger = logging.getLogger(__name__)


def _database_state() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not answering"; the reason goes to the log
        logger.exception("healthz: the database does not answer")
        return {"ok": False, "vendor": connection.vendor}
    return {"ok": True, "vendor": connection.vendor}


def _broker_state() -> dict[str, Any]:
    """With no CELERY_BROKER_URL, tasks run inside the web process: there is nothing to reach."""
    if not settings.CELERY_BROKER_URL:
        return {"ok": True, "mode": "in-process"}
    from config.celery import app

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # same as the database
        logger.exception("healthz: the broker does not answer")
        return {"ok": False, "mode": "broker"}
    return {"ok": True, "mode": "broker"}


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker both answer, 503 otherwise (so the balancer drops us)."""
    database = _database_state()
    broker = _broker_state()
    ok = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "database": database, "broker": broker},
        status=200 if ok else 503,
    )
