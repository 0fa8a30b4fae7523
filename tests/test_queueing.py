"""Services queue tasks by name (no import of the tasks modules): every name must exist."""

from __future__ import annotations

from celery import current_app

from denials.services import queueing


def test_every_task_name_a_service_queues_is_registered():
    names = [queueing.INGEST_FILE, queueing.VALIDATE_FILE, queueing.RETRIAGE_OPEN, "ncci.tasks.import_ncci_file"]
    missing = [name for name in names if name not in current_app.tasks]
    assert missing == []


def test_services_do_not_import_the_tasks_modules():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [
        *sorted((root / "denials" / "services").glob("*.py")),
        *sorted((root / "ncci" / "services").glob("*.py")),
    ]
    assert len(sources) > 10
    offenders = [p.name for p in sources if "from denials.tasks" in p.read_text() or "from ncci.tasks" in p.read_text()]
    assert offenders == []
