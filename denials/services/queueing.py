"""Queueing background work from a service, by the task's name.

Tasks take ids and call services; services never import the tasks module (that made an
import circle). A service names the task it wants, and the task is queued once the current
transaction commits, so a worker never looks for rows that are not there yet. The tasks
are registered when the app is ready (``DenialsConfig.ready`` imports ``denials.tasks``).
"""

from __future__ import annotations

from celery import current_app

INGEST_FILE = "denials.tasks.ingest_remittance_file"
VALIDATE_FILE = "denials.tasks.validate_remittance_file"
RETRIAGE_OPEN = "denials.tasks.retriage_open_denials"


def queue_after_commit(task_name: str, *args: int) -> None:
    """Queue ``task_name(*args)`` after the current transaction commits (at once outside one)."""
    current_app.tasks[task_name].delay_on_commit(*args)
