"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live_server.

Playwright's sync API runs an event loop in the test thread, which Django would take for
async code and refuse ORM calls from; the tests here are plain sync code, so say so.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Screenshots: test-artifacts/ (gitignored), or the folder named by BROWSER_SHOTS.
ARTIFACTS = Path(os.environ.get("BROWSER_SHOTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shot():
    """Save a screenshot to test-artifacts/ (or $BROWSER_SHOTS) for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, **kwargs) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), **kwargs)
        return path

    return save


@pytest.fixture
def team_work(adjustment_rules, code_lists, team):
    """A team's queues with realistic work: a synthetic remittance plus known bundling denials."""
    from denials.demo.remittances import NCCI_PAIRS, generate_demo_files
    from denials.models import Denial, QueueRule, WorkQueue
    from denials.services import category_rules_load_defaults, remittance_file_ingest, remittance_file_receive
    from ncci.models import PtpEdit
    from tests.test_triage_pipeline import edit, remit

    category_rules_load_defaults()
    bundling = WorkQueue.objects.create(name="Bundling and NCCI", team=team, description="CARC 97/236, M15, N381")
    general = WorkQueue.objects.create(name="General denials", team=team)
    QueueRule.objects.create(queue=bundling, category="bundling")
    QueueRule.objects.create(queue=general, category="", priority=1000)
    for column1, column2 in NCCI_PAIRS:
        if (column1, column2) not in {("17000", "11102"), ("64483", "77003")}:
            PtpEdit.objects.create(
                setting="practitioner",
                column1=column1,
                column2=column2,
                modifier_indicator="1",
                effective_date=dt.date(2019, 1, 1),
                rationale="Standards of medical/surgical practice",
                quarter="2026Q4",
            )
    edit("17000", "11102", "1")
    edit("64483", "77003", "0")

    def receive(name: str, content: bytes) -> None:
        file = remittance_file_receive(name=name, content=content, source="command", queue=False)
        remittance_file_ingest(file_id=file.pk, task_id=str(uuid.uuid4()))

    for name, content in generate_demo_files(count=2, claims_per_file=30):
        receive(name, content)
    soon = (timezone.localdate() - dt.timedelta(days=116)).strftime("%Y%m%d")
    receive(
        "a.835",
        remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "", "180", "0", "CO*97*180", "M15")], dos="20260914"),
    )
    receive(
        "b.835",
        remit([("64483", "", "900", "700", "CO*45*200"), ("77003", "", "150", "0", "CO*97*150")], pay_date=soon),
    )
    denial = Denial.objects.get(line__procedure_code="11102", claim__patient_last_name="DOE", ncci_column1="17000")
    assert denial.category == "bundling-modifier-may-apply"
    return {"denial": denial, "bundling": bundling}
