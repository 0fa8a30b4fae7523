"""Locust users for ``bench/load/run.py``: 50 coders working their queues and 5 managers on the
dashboard, each signed in through the real sign-in form, requesting what the pages request.

Coders (``CoderUser``) send what the worklist's htmx sends (``HX-Request: true`` and the
``HX-Target`` of the element swapped, as in ``templates/denials/worklist.html``): a queue tab
swaps ``#worklist-list``; a page, a filter or a sort swaps ``#worklist-rows``/``#worklist-list``;
opening a denial swaps ``#denial-pane`` and then loads its appeal box (``hx-trigger="load"``);
saving posts the pane's form with its CSRF token and the denial's ``version`` (optimistic lock),
and the ``denialChanged`` event that answers a save makes the worklist fetch its list again.
Now and then a coder opens the whole worklist or the stand-alone denial page (a reload, a link),
takes the next denial, or adds a note. Managers (``ManagerUser``) open ``/analytics/`` with one
of a few filter sets and call ``/api/analytics/``.

Think time: a uniformly random 1 to 5 seconds between two actions of one person (an action may
be two requests, e.g. the pane and its appeal box, as the browser sends them).

Every request is also recorded (start, kind, milliseconds, status, and whether a save met a
newer version) and written as JSON lines to ``$LOAD_RECORDS`` when the run ends, so that
``run.py`` computes its own figures. A save on a stale version answers 409 to a plain form post
and 200 with "Not saved" in the pane to htmx (htmx swaps 2xx answers only): both are counted as
a conflict, an expected outcome, not a failure.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
from typing import Any

from gevent.pool import Pool
from locust import FastHttpUser, between, events, task

from bench.load.data import CODERS, MANAGERS, PASSWORD, coder_name, manager_name

HX = {"HX-Request": "true"}
THINK_S = (1, 5)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ROW = re.compile(r'data-row="(\d+)"')
QUEUE_TAB = re.compile(r'hx-get="/worklist/\?queue=(\d+)"')
PANE_VERSION = re.compile(r'data-denial-id="(\d+)" data-version="(\d+)"')
OPTION = re.compile(r'<option value="(\d+)"')
CONFLICT_MARK = b"alert alert-error conflict"
# An element that fetches its content once on the page (hx-trigger="load"): the appeal tabs and
# news of the worklist, a denial's appeal box, the dashboard's tables.
LOADS_ITSELF = re.compile(r'<[^>]*\bhx-trigger="load"[^>]*>')
HX_GET = re.compile(r'\bhx-get="([^"]*)"')
ELEMENT_ID = re.compile(r'\bid="([^"]*)"')
BROWSER_CONNECTIONS = 6  # a browser's parallel requests to one host
FRAGMENT_NAMES = (
    ("/appeals/denial/", "appeal box (htmx)"),
    ("/appeals/tabs/", "appeal tabs (htmx)"),
    ("/appeals/news/", "appeal news (htmx)"),
    ("/analytics/", "dashboard table (htmx)"),
)
SAVES = ("save outcome (htmx)", "save outcome (form post)")
# Worklist filters a coder picks (values from denials/forms.py's choices).
FILTERS = (
    {"category": "bundling-modifier-may-apply"},
    {"category": "medical-necessity"},
    {"category": "eligibility"},
    {"due": "30"},
    {"age": "31-60"},
    {"amount_min": "500"},
    {"status": "all"},
    {"assignee": "none"},
)
SORTS = ("due", "amount", "age", "recovery", "payer", "dos")
# Outcomes with a reason (those need one); the reason is what a coder would type.
OUTCOMES = (
    ("write-off", "Below the appeal threshold"),
    ("request-info", "Asked the practice for the operative note"),
    ("escalate", "Contract terms unclear: needs a manager"),
)
APPEAL_GROUPINGS = ("edit", "carc", "category", "payer", "modifier", "level", "coder", "specialty", "month")
DASHBOARD_GROUPINGS = APPEAL_GROUPINGS[1:]  # the page groups by edit in a table of its own
DENIAL_GROUPINGS = ("category", "payer", "month", "carc")

_coders = itertools.count(1)
_managers = itertools.count(1)
RECORDS: list[dict[str, Any]] = []


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    exception: Any = None,
    start_time: float = 0.0,
    **_: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    conflict = status == 409 or (name in SAVES and status == 200 and CONFLICT_MARK in (response.content or b""))
    RECORDS.append(
        {
            "t": start_time,
            "kind": name,
            "ms": response_time,
            "status": status,
            "conflict": conflict,
            "error": "" if exception is None or status else repr(exception)[:200],
        }
    )


@events.quitting.add_listener
def _write_records(**_: Any) -> None:
    path = os.environ.get("LOAD_RECORDS")
    if path:
        with open(path, "w") as out:
            out.writelines(json.dumps(r) + "\n" for r in RECORDS)


class SignedIn(FastHttpUser):
    """Signs in once through the sign-in form (GET for the CSRF token, then POST); a wrong
    password never happens, so django-axes never counts a failure."""

    abstract = True
    wait_time = between(*THINK_S)

    def sign_in(self, username: str) -> None:
        form = self.client.get("/accounts/login/", name="sign-in form")
        token = CSRF.search(form.text or "")
        answer = self.client.post(
            "/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1) if token else ""},
            name="sign in",
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"{username} could not sign in: {answer.status_code}")

    def fragments(self, page: str, response: Any) -> None:
        """What htmx fetches as soon as the page (or the swapped part) is in: every element with
        ``hx-trigger="load"``, at most six at a time, as a browser does."""
        if response.status_code != 200:
            return
        text = response.text or ""
        kept: set[str] = self.__dict__.setdefault("kept", set())
        if "<html" in text[:300]:
            kept.clear()  # a new document: nothing loaded yet
        wanted = []
        for tag in LOADS_ITSELF.findall(text):
            url, target = HX_GET.search(tag), ELEMENT_ID.search(tag)
            element = target.group(1) if target else ""
            if "hx-preserve" in tag and element:
                # htmx keeps the element already loaded (the worklist's appeal tabs across list swaps).
                if element in kept:
                    continue
                kept.add(element)
            if url:
                wanted.append((_absolute(page, html.unescape(url.group(1))), element))
        pool = Pool(BROWSER_CONNECTIONS)
        for url, target in wanted:
            name = next((n for prefix, n in FRAGMENT_NAMES if url.startswith(prefix)), "fragment (htmx)")
            pool.spawn(self.client.get, url, headers={**HX, "HX-Target": target}, name=name)
        pool.join()


def _absolute(page: str, url: str) -> str:
    """``?table=x`` (Django's {% querystring %}) is relative to the page's path."""
    return page.split("?", 1)[0] + url if url.startswith("?") else url


class CoderUser(SignedIn):
    """A coder of one team: their own work and their team's queues."""

    def on_start(self) -> None:
        n = next(_coders)
        self.sign_in(coder_name((n - 1) % CODERS + 1))
        self.queues: list[str] = []
        self.rows: list[str] = []
        self.list_url = "/worklist/"
        self.pane: tuple[str, str, str] | None = None  # denial id, version, CSRF token
        self.worklist_page()

    # --- the list -------------------------------------------------------------------------
    def _rows_from(self, html: str) -> None:
        rows = ROW.findall(html)
        if rows:
            self.rows = rows

    def _queue(self) -> str:
        return random.choice(self.queues) if self.queues else ""

    def _list(self, url: str, target: str, name: str) -> None:
        response = self.client.get(url, headers={**HX, "HX-Target": target}, name=name)
        if response.status_code == 200:
            self.list_url = url
            self._rows_from(response.text or "")
            self.fragments(url, response)

    @task(1)
    def worklist_page(self) -> None:
        """The whole worklist (sign-in lands here; a reload; a link), then its appeal tabs."""
        queue = self._queue()
        url = f"/worklist/?queue={queue}" if queue else "/worklist/"
        response = self.client.get(url, name="worklist page (full)")
        html = response.text or ""
        self.queues = sorted(set(QUEUE_TAB.findall(html))) or self.queues
        self._rows_from(html)
        self.list_url = url
        self.fragments(url, response)

    @task(3)
    def queue_tab(self) -> None:
        queue = random.choice([*self.queues, ""])
        url = f"/worklist/?queue={queue}" if queue else "/worklist/"
        self._list(url, "worklist-list", "worklist tab (htmx)")

    @task(2)
    def next_page(self) -> None:
        self._list(
            f"/worklist/?queue={self._queue()}&page={random.randint(2, 12)}", "worklist-rows", "worklist page N (htmx)"
        )

    @task(2)
    def filter_rows(self) -> None:
        query = "&".join(f"{k}={v}" for k, v in random.choice(FILTERS).items())
        self._list(f"/worklist/?queue={self._queue()}&{query}", "worklist-rows", "worklist filter (htmx)")

    @task(1)
    def sort_rows(self) -> None:
        self._list(
            f"/worklist/?queue={self._queue()}&sort={random.choice(SORTS)}", "worklist-list", "worklist sort (htmx)"
        )

    # --- a denial ---------------------------------------------------------------------------
    def _open(self, full: bool) -> None:
        if not self.rows:
            self.worklist_page()
            if not self.rows:
                return
        denial = random.choice(self.rows[:15])  # the top of the list, where the work is
        if full:
            response = self.client.get(f"/denials/{denial}/", name="denial page (full)")
        else:
            response = self.client.get(
                f"/denials/{denial}/", headers={**HX, "HX-Target": "denial-pane"}, name="denial pane (htmx)"
            )
        self._keep_pane(response)
        self.fragments(f"/denials/{denial}/", response)

    def _keep_pane(self, response: Any) -> None:
        html = response.text or "" if response.status_code == 200 else ""
        found, token = PANE_VERSION.search(html), CSRF.search(html)
        self.pane = (found.group(1), found.group(2), token.group(1)) if found and token else None

    @task(6)
    def open_denial(self) -> None:
        self._open(full=False)

    @task(1)
    def open_denial_page(self) -> None:
        self._open(full=True)

    @task(3)
    def save_outcome(self) -> None:
        """Save an outcome from the pane (htmx), or now and then from the stand-alone page."""
        if self.pane is None:
            self._open(full=False)
            if self.pane is None:
                return
        denial, version, token = self.pane
        action, reason = random.choice(OUTCOMES)
        form = {"csrfmiddlewaretoken": token, "version": version, "action": action, "modifier": "", "reason": reason}
        if random.random() < 0.8:
            response = self.client.post(
                f"/denials/{denial}/outcome/",
                data=form,
                headers={**HX, "HX-Target": "denial-pane"},
                name="save outcome (htmx)",
            )
            self._keep_pane(response)
            self.fragments(f"/denials/{denial}/", response)
            if response.headers.get("HX-Trigger") == "denialChanged":
                self._list(self.list_url, "worklist-list", "list after save (htmx)")
        else:
            response = self.client.post(
                f"/denials/{denial}/outcome/", data=form, name="save outcome (form post)", allow_redirects=False
            )
            self.pane = None
            if response.status_code == 302:  # redirect-after-POST: the browser opens the denial page
                self._keep_pane(page := self.client.get(f"/denials/{denial}/", name="denial page (full)"))
                self.fragments(f"/denials/{denial}/", page)

    @task(1)
    def add_note(self) -> None:
        if self.pane is None:
            return
        denial, version, token = self.pane
        form = {"csrfmiddlewaretoken": token, "version": version, "body": "Called the payer: reference 48213."}
        response = self.client.post(
            f"/denials/{denial}/notes/", data=form, headers={**HX, "HX-Target": "denial-pane"}, name="add note (htmx)"
        )
        self._keep_pane(response)
        self.fragments(f"/denials/{denial}/", response)
        if response.headers.get("HX-Trigger") == "denialChanged":
            self._list(self.list_url, "worklist-list", "list after save (htmx)")

    @task(1)
    def next_denial(self) -> None:
        token = self.pane[2] if self.pane else self._token()
        response = self.client.post(
            "/denials/next/",
            data={"csrfmiddlewaretoken": token, "queue": self._queue()},
            headers={**HX, "HX-Target": "denial-pane"},
            name="next denial (htmx)",
        )
        self._keep_pane(response)
        if self.pane:
            self.fragments(f"/denials/{self.pane[0]}/", response)

    def _token(self) -> str:
        response = self.client.get(
            self.list_url, headers={**HX, "HX-Target": "worklist-rows"}, name="worklist page N (htmx)"
        )
        found = CSRF.search(response.text or "")
        return found.group(1) if found else ""


class ManagerUser(SignedIn):
    """A manager: the dashboard with a few filter sets, and the analytics API."""

    fixed_count = MANAGERS

    def on_start(self) -> None:
        n = next(_managers)
        self.sign_in(manager_name((n - 1) % MANAGERS + 1))
        response = self.client.get("/analytics/", name="dashboard")
        self.fragments("/analytics/", response)
        html = response.text or ""
        payers = re.search(r'<select id="f-payer".*?</select>', html, re.S)
        teams = re.search(r'<select id="f-team".*?</select>', html, re.S)
        payer_ids = OPTION.findall(payers.group(0)) if payers else []
        team_ids = OPTION.findall(teams.group(0)) if teams else []
        # The views a manager comes back to: a few, so most reads are ones asked before.
        self.filter_sets: list[dict[str, str]] = [
            {},
            {"from": "2026-08-01", "to": "2026-10-31"},
            {"specialty": "Radiology"},
            *({"payer": p} for p in payer_ids[:2]),
            *({"team": t} for t in team_ids[:1]),
        ]

    def _query(self, extra: dict[str, str]) -> str:
        params = {**random.choice(self.filter_sets), **extra}
        return "&".join(f"{k}={v}" for k, v in params.items())

    @task(3)
    def dashboard(self) -> None:
        query = self._query({})
        self._dashboard(f"/analytics/?{query}" if query else "/analytics/")

    @task(1)
    def dashboard_grouped(self) -> None:
        self._dashboard(f"/analytics/?{self._query({'group': random.choice(DASHBOARD_GROUPINGS)})}")

    def _dashboard(self, url: str) -> None:
        self.fragments(url, self.client.get(url, name="dashboard"))

    @task(3)
    def appeal_success(self) -> None:
        query = self._query({"by": random.choice(APPEAL_GROUPINGS)})
        self.client.get(f"/api/analytics/appeal-success/?{query}", name="api appeal-success")

    @task(2)
    def denial_figures(self) -> None:
        query = self._query({"by": random.choice(DENIAL_GROUPINGS)})
        self.client.get(f"/api/analytics/denials/?{query}", name="api denials")
