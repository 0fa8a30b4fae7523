"""Who may request what: every URL the resolver knows, for every persona, for each team's data.

The rules this matrix specifies (Overturn issue 8):

- Coders and managers see the denials in their teams' work queues; admins (and superusers) see all.
  A claim is visible when one of its denials is; a remittance file's pages and API show only visible
  claims, and the file list shows files with at least one. Another team's object answers 404 on every
  page, partial and API, and a refused action writes nothing.
- A user with no role (no coder, manager or admin group) sees only their account: other pages 403
  (object pages may answer 404), APIs 403/404. Uploading and retrying need a role. The NCCI reference
  pages and API carry no patient data: any role may use them. /ncci/import/ and /admin/ are for admins.
- Anonymous: pages redirect (302) to the sign-in page; the API answers 401. Public: the sign-in page,
  /healthz (200 or 503) and the password-reset pages when they exist.
- Manager-only actions (assigning a denial to someone else) refuse coders with a 400 and no write.

The table ``ENTRIES`` has one row per URL pattern; a pattern without a row fails
``test_every_url_pattern_has_an_entry``, so a new URL cannot ship without saying who may use it.
Each (URL, call, owning team, persona) is its own test: ``denials:denial_detail-GET-teamA-coder_b``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.matrix.world import (
    EVIDENCE_QUOTE,
    PERSONA_TEAM,
    PERSONAS,
    TEAM_TAGS,
    TeamData,
    World,
    build_world,
    patient_strings,
    remittance_835,
)

pytestmark = pytest.mark.django_db

Statuses = tuple[int, ...]
DataBuilder = Callable[[World, "TeamData | None"], dict[str, Any]]
KwargsBuilder = Callable[[World, TeamData], dict[str, Any]]

#: Refusals: answers after which nothing may have been written.
REFUSALS = frozenset({400, 401, 403, 404, 405, 409})
#: Answers that show no patient data at all, whoever asks (a 400 or 409 shows the asker's own form).
SHOW_NOTHING = frozenset({302, 401, 403, 404, 405})
#: Django's generated admin URLs: covered as a group by the three admin entries below, the rest skipped.
ADMIN_PREFIX = "admin/"


# --- What each persona may get --------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """Allowed statuses by relation of the persona to the URL's data.

    ``member``: a coder or manager of the team that owns the object (or of any team, for a URL
    without an object); ``outsider``: one of the other team; ``coder`` overrides ``member`` for
    coders (manager-only actions). ``writers``: relations whose request may change data; for
    everyone else (and coders when ``coder_may_write`` is false) the data must be unchanged. ``shows``: relations whose 200 must contain the
    owner's patient strings (so the no-leak check below looks at a page that has data in it).
    """

    anonymous: Statuses
    norole: Statuses
    member: Statuses
    outsider: Statuses
    admin: Statuses
    coder: Statuses | None = None
    writers: frozenset[str] = frozenset({"member", "admin"})
    coder_may_write: bool = True
    shows: frozenset[str] = frozenset()

    def may_write(self, relation: str, persona: str) -> bool:
        if relation == "member" and persona.startswith("coder") and not self.coder_may_write:
            return False
        return relation in self.writers

    def statuses(self, relation: str, persona: str) -> Statuses:
        if relation == "member" and self.coder is not None and persona.startswith("coder"):
            return self.coder
        return getattr(self, relation)


SHOWS = frozenset({"member", "admin"})


def page(ok: Statuses = (200,), *, shows: frozenset[str] = frozenset()) -> Expect:
    """A page with no object of one team in its URL: every role, filtered to what they may see."""
    return Expect(anonymous=(302,), norole=(403,), member=ok, outsider=ok, admin=ok, shows=shows)


def team_page(ok: Statuses = (200,), *, coder: Statuses | None = None, shows: frozenset[str] = frozenset()) -> Expect:
    """A page of one team's object: that team and admins; 404 for the other team."""
    return Expect(anonymous=(302,), norole=(403, 404), member=ok, outsider=(404,), admin=ok, coder=coder, shows=shows)


def api(ok: Statuses = (200,), *, shows: frozenset[str] = frozenset()) -> Expect:
    return Expect(anonymous=(401,), norole=(403, 404), member=ok, outsider=ok, admin=ok, shows=shows)


def team_api(ok: Statuses = (200,), *, shows: frozenset[str] = frozenset()) -> Expect:
    return Expect(anonymous=(401,), norole=(403, 404), member=ok, outsider=(404,), admin=ok, shows=shows)


def public(ok: Statuses = (200,)) -> Expect:
    return Expect(anonymous=ok, norole=ok, member=ok, outsider=ok, admin=ok, writers=frozenset())


def account(ok: Statuses = (200,)) -> Expect:
    """The signed-in user's own account: any signed-in user, role or not."""
    return Expect(anonymous=(302,), norole=ok, member=ok, outsider=ok, admin=ok, writers=frozenset())


def ncci_admin(ok: Statuses = (200,), *, norole: Statuses = (403,)) -> Expect:
    """Admins only; a role that is not admin gets 403 (no role: 403, or 404 on an object URL)."""
    return Expect(
        anonymous=(302,), norole=norole, member=(403,), outsider=(403,), admin=ok, writers=frozenset({"admin"})
    )


def manager_page(ok: Statuses = (200,)) -> Expect:
    """Managers' figures (issue 11): managers and admins, scoped by the selectors; coders 404 (the
    page does not exist for them), no role 403."""
    return Expect(anonymous=(302,), norole=(403,), member=ok, outsider=ok, admin=ok, coder=(404,), writers=frozenset())


def manager_api(ok: Statuses = (200,)) -> Expect:
    """The managers' figures as JSON: coders 403, like every role-forbidden API call."""
    return Expect(
        anonymous=(401,), norole=(403, 404), member=ok, outsider=ok, admin=ok, coder=(403,), writers=frozenset()
    )


#: Django admin: staff in the admin group; everyone else is sent to the admin's sign-in page.
ADMIN_SITE = Expect(
    anonymous=(302,),
    norole=(302,),
    member=(302,),
    outsider=(302,),
    admin=(200,),
    writers=frozenset(),
    shows=frozenset({"admin"}),
)


#: One team's denial with the other team's document or evidence in the URL or body: no such thing
#: on that denial, whoever asks (admins included), and nothing written.
CROSS = Expect(anonymous=(302,), norole=(403, 404), member=(404,), outsider=(404,), admin=(404,), writers=frozenset())

#: Bulk actions name their denials in the body: every role gets the redirect back, but only the
#: owning team's members and admins change anything.
BULK = Expect(anonymous=(302,), norole=(403,), member=(302,), outsider=(302,), admin=(302,))


# --- How to call each URL ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    label: str
    expect: Expect
    method: str = "GET"
    data: DataBuilder | None = None
    query: str = ""
    htmx: bool = False
    json: bool = False
    #: The call's own URL kwargs, instead of its entry's (an object of one team inside another's URL).
    kwargs: KwargsBuilder | None = None


def GET(
    expect: Expect, *, label: str = "GET", query: str = "", htmx: bool = False, kwargs: KwargsBuilder | None = None
) -> Call:
    return Call(label=label, expect=expect, query=query, htmx=htmx, kwargs=kwargs)


def POST(
    expect: Expect,
    data: DataBuilder | None = None,
    *,
    label: str = "POST",
    json: bool = False,
    htmx: bool = False,
    kwargs: KwargsBuilder | None = None,
) -> Call:
    return Call(label=label, expect=expect, method="POST", data=data, json=json, htmx=htmx, kwargs=kwargs)


@dataclass(frozen=True)
class Entry:
    calls: tuple[Call, ...]
    #: Fills the URL's kwargs from one team's data; such an entry runs once per owning team.
    kwargs: KwargsBuilder | None = None
    #: No object in the URL, but the body names one team's data: runs once per owning team too.
    team_body: bool = False
    #: Fills kwargs that belong to no team (an NCCI import, a reset token).
    fixed: Callable[[World], dict[str, Any]] | None = None
    #: Only required when the resolver has the pattern (new or settings-dependent URLs).
    optional: bool = False
    #: Fills the kwargs with the remittance file both teams have a claim in (run as owner "shared").
    shared: Callable[[World], dict[str, Any]] | None = None
    #: Whether the shared file's answer lists claims (the page does; the API's file record has none).
    shared_shows: bool = True

    @property
    def team_scoped(self) -> bool:
        return self.kwargs is not None or self.team_body


def _denial_kwargs(world: World, team: TeamData) -> dict[str, Any]:
    return {"denial_id": team.denial.pk}


def _version(team: TeamData | None) -> int:
    from denials.models import Denial

    assert team is not None
    return Denial.objects.get(pk=team.denial.pk).version


def _upload_835(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"files": [SimpleUploadedFile("upload.835", remittance_835(tags=("UPLOAD",), serial=9301))]}


def _api_upload(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("upload.835", remittance_835(tags=("UPLOAD",), serial=9302))}


def _bulk(world: World, team: TeamData | None) -> dict[str, Any]:
    assert team is not None
    return {"action": "assign-me", "ids": [d.pk for d in team.denials], "next": "/worklist/"}


def _bulk_other(world: World, team: TeamData | None) -> dict[str, Any]:
    assert team is not None
    other = team.team.members.get(username__startswith="matrix-author")
    return {"action": "assign", "assignee": str(other.pk), "ids": [d.pk for d in team.denials], "next": "/worklist/"}


def _assign_me(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"assignee": "me", "version": _version(team)}


def _assign_other(world: World, team: TeamData | None) -> dict[str, Any]:
    # Someone else on the owning team: only managers (and admins) may hand work to them.
    assert team is not None
    other = team.team.members.get(username__startswith="matrix-author")
    return {"assignee": str(other.pk), "version": _version(team)}


def _outcome(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"action": "write-off", "reason": "matrix write-off", "version": _version(team)}


def _note(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"body": "matrix note", "version": _version(team)}


def _document(world: World, team: TeamData | None) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("matrix.txt", b"matrix clinical document"),
        "title": "Matrix",
        "version": _version(team),
    }


def _evidence(world: World, team: TeamData | None) -> dict[str, Any]:
    assert team is not None
    return {"document": team.document.pk, "quote": EVIDENCE_QUOTE, "kind": "other", "version": _version(team)}


def _other(world: World, team: TeamData) -> TeamData:
    return world.teams["B" if team is world.teams["A"] else "A"]


def _evidence_cross(world: World, team: TeamData | None) -> dict[str, Any]:
    """The owner's denial with the other team's document: not on this claim, so 404 for everyone."""
    assert team is not None
    return {**_evidence(world, team), "document": _other(world, team).document.pk}


def _version_only(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"version": _version(team)}


def _worklist_search(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"search": "JANE"}  # both teams' patients are called Jane: each must find only their own


def _scrub_form(world: World, team: TeamData | None) -> dict[str, Any]:
    return {
        "setting": "practitioner",
        "date_of_service": "2026-09-14",
        "line-0-code": "17000",
        "line-0-modifiers": "",
        "line-0-units": "1",
        "line-1-code": "11102",
        "line-1-modifiers": "",
        "line-1-units": "1",
    }


def _scrub_api(world: World, team: TeamData | None) -> dict[str, Any]:
    return {"date_of_service": "2026-09-14", "lines": [{"code": "17000"}, {"code": "11102"}]}


def _claim_search(world: World, team: TeamData | None) -> dict[str, Any]:
    assert team is not None
    return {"patient_control_number": team.claim.patient_control_number}


def _shared_pk(world: World) -> dict[str, Any]:
    return {"pk": world.shared_file.pk}


def _shared_file_id(world: World) -> dict[str, Any]:
    return {"file_id": world.shared_file.pk}


def _empty(world: World, team: TeamData | None) -> dict[str, Any]:
    return {}


def _team_appeal(world: World, team: TeamData) -> Any:
    """The team's draft appeal (on its first denial), created as the admin before the request."""
    from appeals.services import appeal_create

    return appeal_create(denials=[team.denial], actor=world.users["admin"])


def _appeal_kwargs(world: World, team: TeamData) -> dict[str, Any]:
    return {"pk": _team_appeal(world, team).pk}


def _with_team_appeal(world: World, team: TeamData) -> dict[str, Any]:
    """The list's URL has no kwargs: the owning team's appeal exists, so the list has data to show or leak."""
    _team_appeal(world, team)
    return {}


def _with_both_teams_appeals(world: World) -> dict[str, Any]:
    """Figures across teams (no team in the URL): each team's appeal exists, so a manager's page
    has the other team's numbers to leak, and must not."""
    for team in world.teams.values():
        _team_appeal(world, team)
    return {}


def _appeal_create(world: World, team: TeamData | None) -> dict[str, Any]:
    assert team is not None
    return {"denials": [team.denial.pk]}


def _appeal_page_kwargs(world: World, team: TeamData) -> dict[str, Any]:
    return {"appeal_id": _team_appeal(world, team).pk}


def _appeal_version(world: World, team: TeamData | None) -> dict[str, Any]:
    """The current version of the team's draft appeal (created by the kwargs builder)."""
    from appeals.models import Appeal

    assert team is not None
    return {"version": Appeal.objects.get(claim=team.claim, status="draft").version}


def _appeal_ready(world: World, team: TeamData | None) -> dict[str, Any]:
    return {**_appeal_version(world, team), "status": "ready"}


def _appeal_submit(world: World, team: TeamData | None) -> dict[str, Any]:
    return {**_appeal_version(world, team), "submitted_on": "2026-11-01", "method": "fax"}


def _appeal_decide(world: World, team: TeamData | None) -> dict[str, Any]:
    return {**_appeal_version(world, team), "outcome": "upheld"}


def _appeal_notes(world: World, team: TeamData | None) -> dict[str, Any]:
    return {**_appeal_version(world, team), "notes": "matrix appeal note"}


APPEAL_CREATE = Expect(anonymous=(401,), norole=(403,), member=(201,), outsider=(404,), admin=(201,))


# --- The matrix -----------------------------------------------------------------------------------
#: Keys: "namespace:name" (with "[format]" for DRF's format-suffix twin), or "route:<path>" for a
#: pattern this file knows only by its path (URLs being added while this was written).
ENTRIES: dict[str, Entry] = {
    # Home, accounts, health
    "home": Entry(
        (
            GET(
                Expect(
                    anonymous=(302,),
                    norole=(302, 403),
                    member=(302,),
                    outsider=(302,),
                    admin=(302,),
                    writers=frozenset(),
                )
            ),
        )
    ),
    "login": Entry((GET(public()),)),
    "logout": Entry(
        (
            POST(
                Expect(
                    anonymous=(302,), norole=(302,), member=(302,), outsider=(302,), admin=(302,), writers=frozenset()
                ),
                _empty,
            ),
        )
    ),
    "password_change": Entry((GET(account()),)),
    "password_change_done": Entry((GET(account()),)),
    "password_reset": Entry((GET(public()),), optional=True),
    "password_reset_done": Entry((GET(public()),), optional=True),
    "password_reset_confirm": Entry(
        (GET(public()),), optional=True, fixed=lambda world: {"uidb64": "MQ", "token": "set-password"}
    ),
    "password_reset_complete": Entry((GET(public()),), optional=True),
    "route:healthz": Entry((GET(public((200, 503))),), optional=True),
    # An /api/ address no operation answers: the API's JSON 404 for everyone, signed in or not.
    "api-not-found": Entry((GET(public((404,))),), fixed=lambda world: {"rest": "no-such-operation/"}),
    "route:api/schema": Entry((GET(api()),), optional=True),
    "route:api/schema/docs": Entry(
        (
            GET(
                Expect(
                    anonymous=(302, 401),
                    norole=(403,),
                    member=(200,),
                    outsider=(200,),
                    admin=(200,),
                    writers=frozenset(),
                )
            ),
        ),
        optional=True,
    ),
    # Django admin, as a group (the other generated admin URLs are skipped by ADMIN_PREFIX)
    "admin:index": Entry((GET(replace(ADMIN_SITE, shows=frozenset())),)),
    "admin:denials_denial_changelist": Entry((GET(ADMIN_SITE),)),
    "admin:denials_claimpayment_change": Entry(
        (GET(ADMIN_SITE),), kwargs=lambda world, team: {"object_id": team.claim.pk}
    ),
    # REST API (DRF router: each route also has a ".json" format-suffix twin)
    "api:api-root": Entry((GET(api()),)),
    "api:api-root[format]": Entry((GET(api()),)),
    "api:remittance-file-list": Entry((GET(api(shows=SHOWS)), POST(api((202,)), _api_upload))),
    "api:remittance-file-list[format]": Entry((GET(api(shows=SHOWS)),)),
    "api:remittance-file-detail": Entry(
        (GET(team_api(shows=SHOWS)),),
        kwargs=lambda world, team: {"pk": team.file.pk},
        shared=_shared_pk,
        shared_shows=False,
    ),
    "api:remittance-file-detail[format]": Entry(
        (GET(team_api(shows=SHOWS)),),
        kwargs=lambda world, team: {"pk": team.file.pk},
        shared=_shared_pk,
        shared_shows=False,
    ),
    "api:claim-list": Entry((GET(api(shows=SHOWS)),)),
    "api:claim-list[format]": Entry((GET(api(shows=SHOWS)),)),
    "api:claim-detail": Entry((GET(team_api(shows=SHOWS)),), kwargs=lambda world, team: {"pk": team.claim.pk}),
    "api:claim-detail[format]": Entry((GET(team_api(shows=SHOWS)),), kwargs=lambda world, team: {"pk": team.claim.pk}),
    # Claim search by body (keeps claim numbers out of URLs): outsiders get 200 and nothing of the other team.
    "api:claim-search": Entry((POST(api(shows=SHOWS), _claim_search, json=True),), team_body=True, optional=True),
    "api:claim-search[format]": Entry(
        (POST(api(shows=SHOWS), _claim_search, json=True),), team_body=True, optional=True
    ),
    "api:denial-list": Entry((GET(api(shows=SHOWS)),)),
    "api:denial-list[format]": Entry((GET(api(shows=SHOWS)),)),
    "api:denial-detail": Entry((GET(team_api(shows=SHOWS)),), kwargs=lambda world, team: {"pk": team.denial.pk}),
    "api:denial-detail[format]": Entry(
        (GET(team_api(shows=SHOWS)),), kwargs=lambda world, team: {"pk": team.denial.pk}
    ),
    # Appeals (issue 10). PATCH /api/appeals/{id}/ is covered by tests/test_appeals.py (the matrix calls GET and POST).
    "appeals_api:appeal-list": Entry(
        (
            GET(api(shows=SHOWS)),
            # Another team's denial in the body is not found (404) and creates nothing.
            POST(APPEAL_CREATE, _appeal_create, json=True, kwargs=lambda world, team: {}),
        ),
        kwargs=_with_team_appeal,
    ),
    "appeals_api:appeal-detail": Entry((GET(team_api(shows=SHOWS)),), kwargs=_appeal_kwargs),
    "appeals_api:appeal-package-pdf": Entry((GET(team_api()),), kwargs=_appeal_kwargs),
    # Appeal pages (issue 10): the list, the worklist's lazy tabs and My work news, the denial
    # page's appeal box and Appeal button, the appeal page, its forms and its package.
    "appeals:list": Entry(
        (GET(page(shows=SHOWS)), GET(page(shows=SHOWS), label="GET-htmx", htmx=True)), kwargs=_with_team_appeal
    ),
    "appeals:tabs": Entry((GET(page(), htmx=True),), kwargs=_with_team_appeal),
    "appeals:news": Entry((GET(page(), htmx=True),), kwargs=_with_team_appeal),
    "appeals:denial_box": Entry((GET(team_page(), htmx=True),), kwargs=_denial_kwargs),
    "appeals:denial_start": Entry((POST(team_page((302,)), _empty),), kwargs=_denial_kwargs),
    "appeals:detail": Entry(
        (GET(team_page(shows=SHOWS)), GET(team_page(shows=SHOWS), label="GET-htmx", htmx=True)),
        kwargs=_appeal_page_kwargs,
    ),
    "appeals:status": Entry((POST(team_page((302,)), _appeal_ready),), kwargs=_appeal_page_kwargs),
    # A draft cannot be recorded as sent or decided: members get the page back with the refusal (400).
    "appeals:submit": Entry((POST(team_page((400,)), _appeal_submit),), kwargs=_appeal_page_kwargs),
    "appeals:decide": Entry((POST(team_page((400,)), _appeal_decide),), kwargs=_appeal_page_kwargs),
    "appeals:notes": Entry((POST(team_page((302,)), _appeal_notes),), kwargs=_appeal_page_kwargs),
    "appeals:next_level": Entry((POST(team_page((400,)), _appeal_version),), kwargs=_appeal_page_kwargs),
    "appeals:package": Entry((GET(team_page(shows=SHOWS)),), kwargs=_appeal_page_kwargs),
    "appeals:package_pdf": Entry((GET(team_page()),), kwargs=_appeal_page_kwargs),
    # Managers' dashboard and figures (issue 11): aggregates only; the owning team's appeal exists.
    "analytics:dashboard": Entry(
        (
            GET(manager_page()),
            GET(manager_page(), label="GET-csv", query="?format=csv&table=appeal-success-edit"),
            GET(manager_page((400,)), label="GET-bad-filter", query="?from=not-a-date"),
        ),
        fixed=_with_both_teams_appeals,
    ),
    "analytics_api:appeal-success": Entry((GET(manager_api(), query="?by=edit"),), fixed=_with_both_teams_appeals),
    "analytics_api:denials": Entry((GET(manager_api(), query="?by=category"),)),
    "ncci_api:ptp-list": Entry((GET(api(), query="?column1=17000"),)),
    "ncci_api:mue-list": Entry((GET(api(), query="?code=17000"),)),
    "ncci_api:scrub": Entry((POST(api(), _scrub_api, json=True),)),
    # Remittance files and claims
    "denials:file_list": Entry((GET(page(shows=SHOWS)), GET(page(shows=SHOWS), label="GET-htmx", htmx=True))),
    "denials:upload": Entry((GET(page()), POST(page((302,)), _upload_835))),
    "denials:file_detail": Entry(
        (GET(team_page(shows=SHOWS)),), kwargs=lambda world, team: {"file_id": team.file.pk}, shared=_shared_file_id
    ),
    "denials:file_row": Entry(
        (GET(team_page(), htmx=True),), kwargs=lambda world, team: {"file_id": team.file.pk}, shared=_shared_file_id
    ),
    "denials:file_retry": Entry(
        (POST(team_page((302,)), _empty),), kwargs=lambda world, team: {"file_id": team.file.pk}
    ),
    "denials:claim_list": Entry((GET(page(shows=SHOWS)), GET(page(shows=SHOWS), label="GET-htmx", htmx=True))),
    "denials:claim_detail": Entry(
        (GET(team_page(shows=SHOWS)),), kwargs=lambda world, team: {"claim_id": team.claim.pk}
    ),
    # Worklist and denial page
    "denials:worklist": Entry(
        (
            GET(page(shows=SHOWS), query="?queue=all"),
            GET(page(shows=SHOWS), label="GET-htmx", query="?queue=all", htmx=True),
            POST(page(shows=SHOWS), _worklist_search),
        )
    ),
    "denials:denial_next": Entry((POST(page((302,)), _empty),)),
    "denials:denials_bulk": Entry(
        (
            POST(BULK, _bulk),
            # Assigning to someone else is a manager's action: a coder's request does nothing.
            POST(replace(BULK, coder_may_write=False), _bulk_other, label="POST-other"),
        ),
        team_body=True,  # the ticked ids are one team's: the other team's are skipped, unwritten
    ),
    "denials:denial_detail": Entry(
        (GET(team_page(shows=SHOWS)), GET(team_page(shows=SHOWS), label="GET-htmx", htmx=True)), kwargs=_denial_kwargs
    ),
    "denials:denial_assign": Entry(
        (POST(team_page((302,)), _assign_me), POST(team_page((302,), coder=(400,)), _assign_other, label="POST-other")),
        kwargs=_denial_kwargs,
    ),
    "denials:denial_outcome": Entry((POST(team_page((302,)), _outcome),), kwargs=_denial_kwargs),
    "denials:denial_note": Entry(
        (POST(team_page((302,)), _note), POST(team_page((200,)), _note, label="POST-htmx", htmx=True)),
        kwargs=_denial_kwargs,
    ),
    "denials:denial_document_upload": Entry((POST(team_page((302,)), _document),), kwargs=_denial_kwargs),
    "denials:denial_document_file": Entry(
        (
            GET(team_page(shows=SHOWS)),
            GET(
                CROSS,
                label="GET-cross",
                kwargs=lambda world, team: {
                    "denial_id": team.denial.pk,
                    "document_id": _other(world, team).document.pk,
                },
            ),
        ),
        kwargs=lambda world, team: {"denial_id": team.denial.pk, "document_id": team.document.pk},
    ),
    "denials:denial_evidence_save": Entry(
        (POST(team_page((302,)), _evidence), POST(CROSS, _evidence_cross, label="POST-cross")),
        kwargs=_denial_kwargs,
    ),
    "denials:denial_evidence_delete": Entry(
        (
            POST(team_page((302,)), _version_only),
            POST(
                CROSS,
                _version_only,
                label="POST-cross",
                kwargs=lambda world, team: {
                    "denial_id": team.denial.pk,
                    "evidence_id": _other(world, team).evidence.pk,
                },
            ),
        ),
        kwargs=lambda world, team: {"denial_id": team.denial.pk, "evidence_id": team.evidence.pk},
    ),
    # NCCI reference pages: no patient data, any role
    "ncci:search": Entry((GET(page(), query="?code=17000"),)),
    "ncci:scrub": Entry((GET(page()), POST(page(), _scrub_form))),
    "ncci:scrub_line": Entry((GET(page(), query="?index=3", htmx=True),)),
    "ncci:import": Entry((GET(ncci_admin()), POST(ncci_admin((400,)), _empty))),
    "ncci:import_row": Entry(
        (GET(ncci_admin(norole=(403, 404)), htmx=True),), fixed=lambda world: {"import_id": world.ncci_import.pk}
    ),
    "ncci:code_import": Entry((GET(ncci_admin()), POST(ncci_admin((400,)), _empty))),
    "ncci:code_import_row": Entry(
        (GET(ncci_admin(norole=(403, 404)), htmx=True),), fixed=lambda world: {"import_id": world.code_list_import.pk}
    ),
}
#: The admin URLs the group above covers (they must exist; the rest of admin/ is skipped).
ADMIN_COVERED = ("admin:index", "admin:denials_denial_changelist", "admin:denials_claimpayment_change")


# --- The resolver ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    key: str
    name: str
    route: str
    has_format: bool


def _normalized(route: str) -> str:
    """'api/^claims/$' -> 'api/claims'; 'healthz/' -> 'healthz'."""
    return re.sub(r"[\^$?]", "", route).strip("/").replace("//", "/")


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or "")
            has_format = "format" in pattern.pattern.regex.groupindex
            key = (name + ("[format]" if has_format else "")) if name else f"route:{_normalized(route)}"
            yield Route(key=key, name=name, route=route, has_format=has_format)


def _entry_key(route: Route) -> str | None:
    """The entry of a pattern: by name, else by its path (for URLs named after this file was written)."""
    if route.key in ENTRIES:
        return route.key
    by_path = f"route:{_normalized(route.route)}"
    return by_path if by_path in ENTRIES else None


ROUTES = list(_walk(get_resolver().url_patterns))


def _skipped_admin(route: Route) -> bool:
    """One of the Django admin's generated URLs (named admin:..., or unnamed) beyond the covered three.
    A URL of our own mounted under admin/ with a name of its own still needs an entry."""
    generated = route.name.startswith("admin:") or not route.name
    return route.route.startswith(ADMIN_PREFIX) and generated and route.key not in ADMIN_COVERED


ROUTES_TO_TEST = [r for r in ROUTES if not _skipped_admin(r)]


def _cases() -> Iterator[Any]:
    for route in ROUTES_TO_TEST:
        key = _entry_key(route)
        if key is None:
            continue  # test_every_url_pattern_has_an_entry fails for it
        entry = ENTRIES[key]
        owners: tuple[str | None, ...] = (("A", "B") if entry.team_scoped else (None,)) + (
            ("shared",) if entry.shared else ()
        )
        for index, call in enumerate(entry.calls):
            for owner in owners:
                for persona in PERSONAS:
                    team_id = f"-team{owner}" if owner else ""
                    yield pytest.param(
                        route,
                        key,
                        index,
                        owner,
                        persona,
                        id=f"{key.replace('[format]', '.json')}-{call.label}{team_id}-{persona}",
                    )


CASES = list(_cases())


def test_every_url_pattern_has_an_entry():
    """A URL nobody decided the access of fails here, named, with its route."""
    admin_covered = [r for r in ROUTES if r.key in ADMIN_COVERED]
    assert sorted(r.key for r in admin_covered) == sorted(ADMIN_COVERED), "the admin group lost a covered URL"
    skipped = [r for r in ROUTES if _skipped_admin(r)]
    assert skipped, "no admin URL skipped: ADMIN_PREFIX no longer matches Django's admin"
    missing = [f"add an entry for {r.route} ({r.key})" for r in ROUTES_TO_TEST if _entry_key(r) is None]
    assert not missing, "\n".join(missing)


def test_every_required_entry_is_a_url_pattern():
    """An entry whose URL was renamed or removed would silently test nothing."""
    known = {_entry_key(r) for r in ROUTES_TO_TEST}
    stale = [key for key, entry in ENTRIES.items() if not entry.optional and key not in known]
    assert not stale, f"entries with no URL pattern (renamed? removed?): {stale}"
    assert len(CASES) > 300, len(CASES)


# --- Data, once per module ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """Both teams' data, built once and rolled back after the module; each test runs in a
    savepoint inside it (pytest-django's per-test transaction), so a test's writes vanish."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _snapshot() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    from denials.models import AccessEvent, AuditEvent, ClinicalDocument, Denial, DenialNote, Evidence, RemittanceFile
    from ncci.models import NcciImport

    return {
        "audit events": list(AuditEvent.objects.order_by("id").values_list("id", flat=True)),
        "denials": list(
            Denial.objects.order_by("id").values_list(
                "id", "status", "assignee_id", "version", "queue_id", "outcome", "resolution_reason"
            )
        ),
        "notes": list(DenialNote.objects.order_by("id").values_list("id", flat=True)),
        "documents": list(ClinicalDocument.objects.order_by("id").values_list("id", flat=True)),
        "evidence": list(Evidence.objects.order_by("id").values_list("id", flat=True)),
        "files": list(RemittanceFile.objects.order_by("id").values_list("id", "status")),
        "ncci imports": list(NcciImport.objects.order_by("id").values_list("id", flat=True)),
        # A refused look at patient data is no look: no access event either.
        "access events": list(AccessEvent.objects.order_by("id").values_list("id", flat=True)),
    }


def _relation(persona: str, owner: str | None) -> str:
    if persona in ("anonymous", "norole", "admin"):
        return persona
    return "member" if owner in (None, "shared") or PERSONA_TEAM[persona] == owner else "outsider"


def _object_urls(team: TeamData) -> set[str]:
    """A team's object pages: a redirect to one of these must never reach the other team."""
    urls = {reverse("denials:file_detail", args=[team.file.pk]), reverse("denials:claim_detail", args=[team.claim.pk])}
    return urls | {reverse("denials:denial_detail", args=[d.pk]) for d in team.denials}


def _found(body: str, strings: tuple[str, ...]) -> list[str]:
    lowered = body.lower()
    return [s for s in strings if s.lower() in lowered]


@pytest.mark.parametrize(("route", "key", "index", "owner", "persona"), CASES)
def test_access(world: World, client: Any, route: Route, key: str, index: int, owner: str | None, persona: str):
    """One cell of the matrix: the status, where a redirect goes, no other team's patient data in
    the body (none at all in a refusal), the owner's data where the page must show it, and no
    write after a refusal."""
    entry = ENTRIES[key]
    call = entry.calls[index]
    team = world.teams[owner] if owner in TEAM_TAGS else None
    if owner == "shared":
        assert entry.shared is not None
        kwargs = dict(entry.shared(world))
    elif builder := call.kwargs or entry.kwargs:
        assert team is not None
        kwargs = dict(builder(world, team))
    else:
        kwargs = dict(entry.fixed(world)) if entry.fixed else {}
    if route.has_format:
        kwargs["format"] = "json"
    if route.name:
        url = reverse(route.name, kwargs=kwargs)
    else:  # a pattern known by its path only: a plain path, no converters
        url = "/" + _normalized(route.route) + ("/" if route.route.endswith("/") else "")
        assert resolve(url), url
    url += call.query
    if persona != "anonymous":
        client.force_login(world.users[persona])
    headers = {"HTTP_HX_REQUEST": "true"} if call.htmx else {}
    before = _snapshot()

    if call.method == "GET":
        response = client.get(url, **headers)
    elif call.json:
        response = client.post(
            url, call.data(world, team) if call.data else {}, content_type="application/json", **headers
        )
    else:
        response = client.post(url, call.data(world, team) if call.data else {}, **headers)

    relation = _relation(persona, owner)
    expected = call.expect.statuses(relation, persona)
    status = response.status_code
    where = f"{call.method} {url} as {persona}"
    assert status in expected, f"{where}: {status}, expected {expected}"

    if status == 302:
        location = response["Location"]
        if route.route.startswith(ADMIN_PREFIX) and persona != "admin":
            # Django's admin sends anyone but its staff to its own sign-in page (or ours, when anonymous).
            logins = (reverse("admin:login"), reverse(settings.LOGIN_URL))
            assert location.startswith(logins if persona == "anonymous" else logins[:1]), f"{where}: to {location}"
        elif persona == "anonymous":
            assert location.startswith(reverse(settings.LOGIN_URL)), f"{where}: sent to {location}"
        own_team = world.team_of(persona)
        if own_team is not None:
            other = world.teams["B" if PERSONA_TEAM[persona] == "A" else "A"]
            assert location.split("#")[0].split("?")[0] not in _object_urls(other), f"{where}: sent to {location}"

    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    every_string = patient_strings(TEAM_TAGS["A"]) + patient_strings(TEAM_TAGS["B"])
    if status in SHOW_NOTHING or persona in ("anonymous", "norole"):
        assert not _found(text, every_string), f"{where}: {status} shows {_found(text, every_string)}"
    elif persona != "admin":
        other_tag = TEAM_TAGS["B" if PERSONA_TEAM[persona] == "A" else "A"]
        leaked = _found(text, patient_strings(other_tag))
        assert not leaked, f"{where}: another team's patient data in a {status}: {leaked}"

    if status == 200 and relation in call.expect.shows and (owner != "shared" or entry.shared_shows):
        # The page has the data the no-leak check is about: the owner's (or, without an owner,
        # the persona's own team's; admins: both teams').
        if owner in TEAM_TAGS:
            shown_teams = [owner]
        elif persona == "admin":
            shown_teams = ["A", "B"]
        else:
            shown_teams = [PERSONA_TEAM[persona]]
        for shown in shown_teams:
            assert _found(text, patient_strings(TEAM_TAGS[shown])), f"{where}: none of team {shown}'s data shown"

    if status in REFUSALS or (call.method == "POST" and not call.expect.may_write(relation, persona)):
        after = _snapshot()
        changed = [name for name in before if before[name] != after[name]]
        if status not in SHOW_NOTHING:
            # A refused form (400/409) shows the page again to someone allowed to see it: a look.
            changed = [name for name in changed if name != "access events"]
        assert not changed, f"{where}: answered {status} but changed {changed}"


def test_world_has_each_teams_data_in_its_own_queue(world: World):
    """The matrix means something only if each team's denials, claim and file are really its own."""
    from denials.models import Denial

    for key, team in world.teams.items():
        assert team.denials and all(d.queue_id == team.queue.pk for d in team.denials)
        assert Denial.objects.filter(claim=team.claim, queue__team=team.team).count() == len(team.denials)
        assert team.claim.patient_last_name == f"{TEAM_TAGS[key]}PATIENT"
        assert team.evidence.denial_id == team.denial.pk and team.document.claim_id == team.claim.pk
    shared = Denial.objects.filter(claim__remittance__file=world.shared_file)
    for key, team in world.teams.items():
        assert shared.filter(queue=team.queue).values("claim").distinct().count() == 1, key
    assert not shared.filter(queue__isnull=True).exists()
    assert set(world.users) == set(PERSONAS) - {"anonymous"}
