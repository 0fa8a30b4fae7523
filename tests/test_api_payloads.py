"""Hostile payloads against every write operation of the REST API (Hypothesis).

The write operations are read from ``/api/schema/`` at test time, and each must have a strategy
here (``OPERATIONS``): a new POST, PUT, PATCH or DELETE fails ``test_every_write_operation_has_a_
payload_strategy`` until it gets one. Each operation is called as a coder, a manager and an admin
(token authentication) with bodies that are arbitrary JSON values (nested, wrong types, huge
numbers and strings, NUL and control characters, lone surrogates, nulls, extra and missing fields,
lists where objects belong), well-formed bodies of its own fields holding good and bad values, the
same under a wrong content type, malformed and truncated JSON, empty bodies, forms and multipart
where JSON is expected (and, for the upload, arbitrary bytes and file names), and path ids that
are out of range, negative, missing or another team's. Whatever is sent:

- the answer is never a 5xx, and is JSON;
- a 4xx body is a JSON object naming the field(s) at fault or saying why (``detail``);
- a refused request changes nothing stored (a fingerprint of the tables it could touch:
  counts, largest ids, summed versions, latest change), and neither does any call to a read-only
  operation (the claim search, the scrubber);
- an accepted request leaves the object consistent: read again it answers 200 with what was
  answered, and the rules of its model hold.

Examples per operation and role: ``API_PAYLOAD_EXAMPLES`` (default 25). Each run is seeded from
the operation and role, so CI sees the same examples every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import Count, Max, Sum
from django.test import Client
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from appeals import vocabulary as v
from appeals.models import Appeal, SentModifier
from denials import selectors
from denials.models import AccessEvent, AuditEvent, ClaimPayment, Denial, RemittanceFile
from ncci.models import Setting
from tests.matrix.world import World, build_world, remittance_835

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_PAYLOAD_EXAMPLES", "25"))
ROLES = ("coder_a", "manager_a", "admin")
WRITE_METHODS = ("post", "put", "patch", "delete")
#: Keys a 4xx body may hold besides the fields of the request: DRF's reason, errors of the body
#: as a whole, and the appeal as it now stands (409).
REASON_KEYS = {"detail", "non_field_errors", "current"}
BOUNDARY = "PayloadBoundary7MA4YWxkTrZu0gW"

# --- Values ------------------------------------------------------------------------------------

HOSTILE_CHARACTERS = "\x00\x01\x08\x1b\x7f\x85\u200b\u202e\u2028\ufeff\ud800\udfffé𝄞 \"'\\\r\n<>;%"
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS), max_size=8),
    st.sampled_from(
        [
            "",
            " ",
            "null",
            "0",
            "-1",
            "1e400",
            "NaN",
            "Infinity",
            "9" * 40,
            "2026-02-30",
            "0001-01-01",
            "9999-12-31",
            "<script>alert(1)</script>",
            "'; DROP TABLE appeals_appeal; --",
            "../../etc/passwd",
        ]
    ),
    st.just(100_000).map(lambda n: "x" * n),
)
NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, -(10**40)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 0.5, -0.0]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT)
ANY_JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(HOSTILE_TEXT, children, max_size=4)),
    max_leaves=12,
)
BAD_IDS = [0, -1, 2**31, 2**63 - 1, 2**63, 10**25, 987654321]
DATES = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2026-09-14", "2026-10-01", "0001-01-01", "9999-12-31", "2026-02-30", "14/09/2026", ""]),
)
MONEY = st.one_of(
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["0", "0.00", "100", "400.00", "-0.01", "1e30", "1E-30", "NaN", "Infinity", "0x10", "1,000"]),
    NUMBERS,
)

#: A query string beside the body: mostly none; else a page, a format, or anything.
QUERIES = st.one_of(
    st.just(""),
    st.just(""),
    st.sampled_from(["?page=2", "?page=0", "?page=-1", "?page=abc", f"?page={10**25}", "?format=json", "?format=xml"]),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, min_size=1, max_size=2).map(
        lambda params: "?" + urlencode(params, errors="surrogatepass")
    ),
)

# --- Request bodies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """What goes on the wire, and the JSON value it carries (``None`` when not JSON)."""

    content_type: str
    data: bytes
    sent: Any = None


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate as the bytes a careless client sends


def _json(value: Any, ascii_only: bool) -> bytes:
    return _utf8(json.dumps(value, ensure_ascii=ascii_only))


def _pairs(value: Any) -> list[tuple[str, str]]:
    """A JSON value as form fields: an object's keys, a list repeated, anything else as text."""
    if not isinstance(value, dict):
        return [("value", json.dumps(value))]
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            pairs.append((str(key), one if isinstance(one, str) else json.dumps(one)))
    return pairs


def multipart(fields: Sequence[tuple[str, str]], files: Sequence[tuple[str, str, bytes]] = ()) -> bytes:
    """A multipart body written by hand, so a field or file name may hold anything (quotes,
    CR LF, NUL): Django's test client would refuse to write some of them."""
    parts: list[bytes] = []
    for name, text in fields:
        parts.append(_utf8(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{text}\r\n'))
    for name, filename, content in files:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(_utf8(head + "Content-Type: application/octet-stream\r\n\r\n") + content + b"\r\n")
    return b"".join(parts) + _utf8(f"--{BOUNDARY}--\r\n")


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = "application/x-www-form-urlencoded"
WRONG_TYPES = [
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "application/json; charset=bogus",
    "application/json; charset=utf-16",
    f"{FORM}; charset=bogus",
    f"{MULTIPART}; charset=bogus",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "application/json-patch+json",
    "",
]
RAW_BODIES = [
    b"",
    b"{",
    b"[",
    b"{}}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e999999}',
    b'{"a": "\\ud800"}',
    b"\xff\xfe{\x00}\x00",
    b"\xef\xbb\xbf{}",
    b"null",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "&".join(f"f{i}=1" for i in range(1200)).encode(),
]


def bodies(payloads: st.SearchStrategy[Any], good: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Body]:
    """The ways a payload reaches the server: JSON (ASCII-escaped or raw UTF-8), a form, a
    multipart form, JSON under a wrong content type, truncated JSON, and raw bytes. With
    ``good`` (the operation's well-formed objects), half the bodies are those as JSON, so that
    enough requests are accepted for their result to be checked."""

    @st.composite
    def build(draw: st.DrawFn) -> Body:
        value = draw(payloads)
        kind = draw(st.sampled_from(["json", "json", "json", "form", "multipart", "wrong-type", "truncated", "raw"]))
        if kind == "json":
            return Body("application/json", _json(value, draw(st.booleans())), value)
        if kind == "form":
            return Body(FORM, _utf8(urlencode(_pairs(value), errors="surrogatepass")))
        if kind == "multipart":
            return Body(MULTIPART, multipart(_pairs(value)))
        if kind == "wrong-type":
            return Body(draw(st.sampled_from(WRONG_TYPES)), _json(value, True))
        if kind == "truncated":
            text = _json(value, False)
            return Body("application/json", text[: draw(st.integers(0, max(0, len(text) - 1)))])
        data = draw(st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=300)))
        return Body(draw(st.sampled_from(["application/json", FORM, MULTIPART, *WRONG_TYPES])), data)

    if good is None:
        return build()
    return st.one_of(good.map(lambda value: Body("application/json", _json(value, True), value)), build())


def shaped(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object of the operation's own fields: with good values, or with any field missing, any
    value replaced by any JSON value, and extra fields beside."""
    good = st.fixed_dictionaries(required, optional=optional)
    every = {**required, **optional}
    hostile = st.fixed_dictionaries({}, optional={k: st.one_of(s, ANY_JSON) for k, s in every.items()})
    extra = st.dictionaries(HOSTILE_TEXT, ANY_JSON, max_size=2)
    return st.one_of(good, st.tuples(hostile, extra).map(lambda t: {**t[1], **t[0]}))


def request_bodies(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Body]:
    """The operation's objects (well-formed or not), a list of them where one object belongs, or
    any JSON value, in any of the ways ``bodies`` sends them."""
    objects = shaped(required, optional)
    payloads = st.one_of(objects, objects, st.lists(objects, max_size=2), ANY_JSON)
    return bodies(payloads, good=st.fixed_dictionaries(required, optional=optional))


# --- The world each operation is called in ----------------------------------------------------


@dataclass
class Scene:
    world: World
    tokens: dict[str, str]
    #: An open appeal of each team (PATCH targets).
    appeals: dict[str, int]
    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        if role not in self.clients:
            self.clients[role] = Client(headers={"Authorization": f"Token {self.tokens[role]}"})
        return self.clients[role]

    def denial_ids(self, team: str) -> list[int]:
        return [d.pk for d in self.world.teams[team].denials]

    def foreign(self, role: str, team: str) -> bool:
        """Whether ``team``'s objects are another team's for ``role`` (an admin sees every team)."""
        return role != "admin" and not role.endswith("_" + team.lower())


def _scene() -> Scene:
    from appeals.services import appeal_create

    world = build_world()
    tokens = {role: Token.objects.get_or_create(user=world.users[role])[0].key for role in ROLES}
    appeals = {
        key: appeal_create(denials=[team.denials[1]], actor=world.users[f"coder_{key.lower()}"]).pk
        for key, team in world.teams.items()
    }
    return Scene(world=world, tokens=tokens, appeals=appeals)


def fingerprint() -> tuple[Any, ...]:
    """Cheap enough for every example, and changed by any write an API call could make."""

    def table(model: Any, *, versioned: bool = False, changed: str = "") -> tuple[Any, ...]:
        figures: dict[str, Any] = {"n": Count("id"), "top": Max("id")}
        if versioned:
            figures["versions"] = Sum("version")
        if changed:
            figures["changed"] = Max(changed)
        return tuple(model.objects.aggregate(**figures).values())

    return (
        table(RemittanceFile, changed="finished_at"),
        tuple(RemittanceFile.objects.order_by("status").values_list("status").annotate(n=Count("id"))),
        table(Appeal, versioned=True, changed="updated_at"),
        Appeal.denials.through.objects.count(),
        table(Denial, versioned=True, changed="updated_at"),
        table(ClaimPayment),
        table(SentModifier),
        table(AuditEvent),
        table(AccessEvent),
    )


# --- Operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    role: str
    path: str
    body: Body
    #: Another team's object the path or body names, for this role ("" when none): never reached.
    foreign_team: str = ""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    #: The body's field names (a 4xx may name these).
    fields: frozenset[str]
    #: Draws one call as ``role`` (given Hypothesis' ``data`` and the scene).
    draw: Callable[[Any, Scene, str], Call]
    #: Checks an accepted call's result, read back.
    accepted: Callable[[Scene, Call, Any], None]
    #: Whether a call may store anything (the search and the scrubber never do).
    writes: bool = True


def _draw_appeal_create(data: Any, scene: Scene, role: str) -> Call:
    own, other = scene.denial_ids("A"), scene.denial_ids("B")
    ids = st.one_of(st.sampled_from(own), st.sampled_from([*other, *BAD_IDS]))
    body = data.draw(
        request_bodies(
            {"denials": st.lists(ids, min_size=1, max_size=3)},
            {"level": st.sampled_from([*v.LEVELS, "", "bogus", "first-level "])},
        ),
        label="body",
    )
    sent = body.sent if isinstance(body.sent, dict) else {}
    named = sent.get("denials") if isinstance(sent.get("denials"), list) else []
    foreign = any(isinstance(i, int) and i in other for i in named) and scene.foreign(role, "B")
    return Call(role, "/api/appeals/", body, foreign_team="B" if foreign else "")


def _check_appeal(scene: Scene, role: str, answered: dict[str, Any]) -> None:
    """Read back as the caller: the same appeal, its denials visible to them, on one claim, and
    the model's rules holding (an outcome exactly when decided; recovered within what is at stake)."""
    again = scene.client(role).get(f"/api/appeals/{answered['id']}/")
    assert again.status_code == 200, again.content[:300]
    assert again.json() == answered
    appeal = Appeal.objects.get(pk=answered["id"])
    denials = list(appeal.denials.all())
    assert denials and {d.claim_id for d in denials} == {appeal.claim_id}
    visible = set(selectors.denials_visible_to(user=scene.world.users[role]).values_list("pk", flat=True))
    assert {d.pk for d in denials} <= visible
    assert bool(appeal.outcome) == (appeal.status == v.STATUS_DECIDED)
    at_stake = sum((d.amount for d in denials), Decimal("0"))
    assert Decimal("0") <= (appeal.amount_recovered or Decimal("0")) <= at_stake
    if appeal.submitted_on and appeal.decided_on:
        assert appeal.decided_on >= appeal.submitted_on


def _accepted_appeal_create(scene: Scene, call: Call, response: Any) -> None:
    assert response.status_code == 201, response.status_code
    answered = response.json()
    named = call.body.sent["denials"] if isinstance(call.body.sent, dict) else None
    if isinstance(named, list):
        assert set(named) <= set(answered["denials"])
    _check_appeal(scene, call.role, answered)


PATCH_FIELDS = {
    "status": st.sampled_from([*v.STATUSES, "", "bogus", "DECIDED"]),
    "outcome": st.sampled_from([*v.OUTCOMES, "", "bogus"]),
    "amount_recovered": MONEY,
    "submitted_on": st.one_of(st.none(), DATES),
    "decided_on": st.one_of(st.none(), DATES),
    "method": st.sampled_from([*v.METHODS, "", "pigeon"]),
    "payer_reference": HOSTILE_TEXT,
    "notes": HOSTILE_TEXT,
}


def _draw_appeal_update(data: Any, scene: Scene, role: str) -> Call:
    team = data.draw(st.sampled_from(["A", "A", "B", ""]), label="team")
    pk = scene.appeals[team] if team else data.draw(st.sampled_from(BAD_IDS), label="id")
    current = Appeal.objects.filter(pk=pk).values_list("version", flat=True).first() or 1
    version = st.one_of(st.just(current), st.just(current), st.sampled_from([current - 1, current + 1, *BAD_IDS]))
    body = data.draw(request_bodies({"version": version}, PATCH_FIELDS), label="body")
    return Call(role, f"/api/appeals/{pk}/", body, foreign_team=team if team and scene.foreign(role, team) else "")


def _accepted_appeal_update(scene: Scene, call: Call, response: Any) -> None:
    assert response.status_code == 200, response.status_code
    answered = response.json()
    sent = call.body.sent if isinstance(call.body.sent, dict) else {}
    if sent.get("status") in v.STATUSES:
        assert answered["status"] == sent["status"]
    for name in ("notes", "payer_reference"):
        if isinstance(sent.get(name), str):
            assert answered[name] == sent[name].strip()  # DRF trims text fields
    _check_appeal(scene, call.role, answered)


def _draw_claim_search(data: Any, scene: Scene, role: str) -> Call:
    world = scene.world
    claims = [t.claim for t in world.teams.values()]
    ids = st.sampled_from([*(c.payer_id for c in claims), *BAD_IDS])
    files = st.sampled_from([*(t.file.pk for t in world.teams.values()), world.shared_file.pk, *BAD_IDS])
    requests = request_bodies(
        {},
        {
            "patient_control_number": st.one_of(
                st.sampled_from([c.patient_control_number for c in claims]), HOSTILE_TEXT
            ),
            "payer_claim_number": st.one_of(st.sampled_from([c.payer_claim_number for c in claims]), HOSTILE_TEXT),
            "payer": ids,
            "status": st.sampled_from(["1", "2", "4", "22", ""]),
            "file": files,
        },
    )
    return Call(role, "/api/claims/search/", data.draw(requests, label="body"))


def _accepted_claim_search(scene: Scene, call: Call, response: Any) -> None:
    assert response.status_code == 200, response.status_code
    page = response.json()
    assert set(page) == {"count", "next", "previous", "results"}
    found = {claim["id"] for claim in page["results"]}
    visible = set(selectors.claim_list(user=scene.world.users[call.role]).values_list("pk", flat=True))
    assert found <= visible, "the search answered a claim the caller may not see"
    assert page["count"] == len(found)  # the world holds fewer claims than a page


CODES = ["17000", "11102", "99213", "J3490", "0001U"]
GOOD_LINE = st.fixed_dictionaries(
    {"code": st.sampled_from(CODES)},
    optional={
        "modifiers": st.lists(st.sampled_from(["59", "XS", "25", "LT", "xu"]), max_size=2),
        "units": st.integers(1, 20),
        "date_of_service": st.one_of(st.none(), st.dates().map(str)),
    },
)
ODD_LINE = shaped(
    {"code": st.one_of(st.sampled_from([*CODES, "abc12", "1700", " 17000 "]), HOSTILE_TEXT)},
    {
        "modifiers": st.lists(st.sampled_from(["59", "XS", "  ", "5", "5 9", "ABC"]), max_size=5),
        "units": st.one_of(st.integers(0, 100_000), NUMBERS),
        "date_of_service": st.one_of(st.none(), DATES),
    },
)
SCRUB_LINES = st.lists(st.one_of(GOOD_LINE, GOOD_LINE, ODD_LINE), min_size=1, max_size=4)


def _draw_scrub(data: Any, scene: Scene, role: str) -> Call:
    requests = request_bodies(
        {"date_of_service": DATES, "lines": SCRUB_LINES},
        {"setting": st.sampled_from([*Setting.values, "", "bogus"])},
    )
    return Call(role, "/api/scrub/", data.draw(requests, label="body"))


def _accepted_scrub(scene: Scene, call: Call, response: Any) -> None:
    assert response.status_code == 200, response.status_code
    result = response.json()
    assert {"setting", "date_of_service", "clean", "problems", "ptp", "mue", "notes"} <= set(result)
    assert result["clean"] == (result["problems"] == 0)


FILE_NAMES = st.one_of(
    st.sampled_from(["remit.835", "", ".", "..", "../../etc/passwd", "a\x00b.835", 'quote".835', "x" * 1000]),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS), max_size=10),
)


def _draw_upload(data: Any, scene: Scene, role: str) -> Call:
    content = data.draw(
        st.one_of(
            st.binary(max_size=2000),
            st.integers(9200, 9999).map(lambda serial: remittance_835(tags=("ALPHA",), serial=serial)),
            st.just(remittance_835(tags=("ALPHA",), serial=9101)),  # the team's file again: a duplicate
        ),
        label="content",
    )
    files = data.draw(
        st.lists(st.tuples(st.sampled_from(["file", "file", "File", "files", ""]), FILE_NAMES), max_size=2),
        label="files",
    )
    fields = data.draw(st.lists(st.tuples(st.sampled_from(["file", "name", "x"]), HOSTILE_TEXT), max_size=2))
    upload = Body(MULTIPART, multipart(fields, [(name, filename, content) for name, filename in files]))
    body = data.draw(st.one_of(st.just(upload), st.just(upload), bodies(ANY_JSON)), label="body")
    return Call(role, "/api/remittance-files/", body)


def _accepted_upload(scene: Scene, call: Call, response: Any) -> None:
    assert response.status_code == 202, response.status_code
    answered = response.json()
    assert response["Location"] == answered["url"]
    again = scene.client(call.role).get(f"/api/remittance-files/{answered['id']}/")
    assert again.status_code == 200, again.content[:300]
    stored = RemittanceFile.objects.get(pk=answered["id"])
    assert stored.status in {"ingested", "failed", "duplicate"}, stored.status  # ingested at once (eager)
    assert stored.status != "failed" or stored.error
    assert "\x00" not in stored.original_name and len(stored.original_name) <= 255
    original = stored.duplicate_of if stored.status == "duplicate" else stored
    assert original is not None and hashlib.sha256(bytes(original.content)).hexdigest() == stored.sha256
    assert len(bytes(original.content)) == stored.size


OPERATIONS = {
    ("POST", "/api/appeals/"): Operation(
        "POST", "/api/appeals/", frozenset({"denials", "level"}), _draw_appeal_create, _accepted_appeal_create
    ),
    ("PATCH", "/api/appeals/{id}/"): Operation(
        "PATCH",
        "/api/appeals/{id}/",
        frozenset({"version", *PATCH_FIELDS}),
        _draw_appeal_update,
        _accepted_appeal_update,
    ),
    ("POST", "/api/claims/search/"): Operation(
        "POST",
        "/api/claims/search/",
        frozenset({"patient_control_number", "payer_claim_number", "payer", "status", "file"}),
        _draw_claim_search,
        _accepted_claim_search,
        writes=False,
    ),
    ("POST", "/api/scrub/"): Operation(
        "POST",
        "/api/scrub/",
        frozenset({"setting", "date_of_service", "lines"}),
        _draw_scrub,
        _accepted_scrub,
        writes=False,
    ),
    ("POST", "/api/remittance-files/"): Operation(
        "POST", "/api/remittance-files/", frozenset({"file"}), _draw_upload, _accepted_upload
    ),
}


# --- Properties ---------------------------------------------------------------------------------


def _reasons(body: Any) -> list[str]:
    """Every message in an error body (DRF nests them by field, line and position)."""
    if isinstance(body, str):
        return [body] if body.strip() else []
    if isinstance(body, dict):
        return [r for item in body.values() for r in _reasons(item)]
    if isinstance(body, list):
        return [r for item in body for r in _reasons(item)]
    return []


def assert_says_why(response: Any, fields: frozenset[str]) -> None:
    """A 4xx is a JSON object whose keys are the fields at fault (or ``detail``), with a reason."""
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:300])
    body = response.json()
    assert isinstance(body, dict) and body, body
    assert set(body) <= fields | REASON_KEYS, (response.status_code, body)
    assert _reasons(body), body


def send(scene: Scene, operation: Operation, call: Call, capture: Any) -> Any:
    with capture(execute=True):  # what a commit would queue (the upload's ingestion) runs, eagerly
        return scene.client(call.role).generic(
            operation.method, call.path, call.body.data, content_type=call.body.content_type
        )


def check(scene: Scene, operation: Operation, call: Call, capture: Any) -> int:
    before = fingerprint()
    response = send(scene, operation, call, capture)
    status = response.status_code
    assert status < 500, (status, response.content[:500])
    if call.foreign_team:
        assert status in (400, 404, 415), "another team's object was reached"
    if status >= 400:
        assert_says_why(response, operation.fields)
    if status >= 400 or not operation.writes:
        assert fingerprint() == before, f"{status} {response.content[:300]!r} changed what is stored"
    if status < 300:
        assert response["Content-Type"].startswith("application/json")
        operation.accepted(scene, call, response)
    return status


def _schema_write_operations(client: Client) -> set[tuple[str, str]]:
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    return {
        (method.upper(), path)
        for path, item in json.loads(schema.content)["paths"].items()
        for method in item
        if method in WRITE_METHODS
    }


def test_every_write_operation_has_a_payload_strategy(admin_client_):
    assert _schema_write_operations(admin_client_) == set(OPERATIONS), "give each write operation a strategy"


def _runner(operation: Operation, scene: Scene, role: str, seen: dict[int, int], capture: Any) -> Any:
    """Hypothesis over one operation as one role; each answer's status is counted in ``seen``."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @seed(zlib.crc32(f"{operation.method} {operation.path} {role}".encode()))  # reproducible; each role its own
    @given(data=st.data())
    def run(data: Any) -> None:
        call = operation.draw(data, scene, role)
        call = replace(call, path=call.path + data.draw(QUERIES, label="query"))
        status = check(scene, operation, call, capture)
        seen[status] = seen.get(status, 0) + 1

    return run


@pytest.mark.parametrize("key", sorted(OPERATIONS), ids=lambda key: f"{key[0]} {key[1]}")
def test_hostile_payloads_never_500_say_why_and_change_nothing_when_refused(key, django_capture_on_commit_callbacks):
    operation = OPERATIONS[key]
    scene = _scene()
    statuses: dict[str, dict[int, int]] = {}
    for role in ROLES:
        _runner(operation, scene, role, statuses.setdefault(role, {}), django_capture_on_commit_callbacks)()
    print(f"\n{key[0]} {key[1]}: {statuses}")
    # Every role was really called, and the properties held for accepted requests as well as refused ones.
    assert all(sum(seen.values()) >= EXAMPLES // 2 for seen in statuses.values()), statuses
    assert any(code < 300 for seen in statuses.values() for code in seen), statuses
    assert any(400 <= code < 500 for seen in statuses.values() for code in seen), statuses


# --- What the properties found, each pinned by name ---------------------------------------------


def _token_client(user: Any) -> Client:
    return Client(headers={"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"})


def test_the_same_bytes_as_someone_elses_failed_file_give_the_uploader_a_file_they_can_follow(
    admin_user, coder, django_capture_on_commit_callbacks
):
    """Found: the same bytes as a failed file of another person's were retried as that file, and
    the uploader was answered 202 with its URL, which answered them 404 (not their upload, no
    claim of their team). The failed copy is still retried; the uploader gets a receipt of their own."""
    content = b"not an 835 at all"
    upload = {"content_type": MULTIPART, "data": multipart([], [("file", "first.835", content)])}
    with django_capture_on_commit_callbacks(execute=True):
        first = _token_client(admin_user).generic("POST", "/api/remittance-files/", **upload)
    assert RemittanceFile.objects.get(pk=first.json()["id"]).status == "failed"
    upload["data"] = multipart([], [("file", "again.835", content)])
    with django_capture_on_commit_callbacks(execute=True):
        again = _token_client(coder).generic("POST", "/api/remittance-files/", **upload)
    assert again.status_code == 202
    assert _token_client(coder).get(again["Location"]).status_code == 200
    retried = AuditEvent.objects.filter(action="remittance_file.retry", target_id=str(first.json()["id"]))
    assert retried.count() == 1  # the failed copy was still tried again


#: The JSON operations, each with a body it accepts (so a refusal below is the body's fault alone).
JSON_OPERATIONS = [
    ("post", "/api/appeals/"),
    ("post", "/api/claims/search/"),
    ("post", "/api/scrub/"),
]

# Found: each of these answered 500 (a lone surrogate was echoed in an error message that could
# not be encoded; JSON nested deeper than Python's recursion limit raised RecursionError) or Django's HTML "Bad Request" page with no reason (a form or multipart body
# with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS).
UNREADABLE_BODIES = {
    "lone surrogate": ("application/json", b'{"level": "\\ud800", "setting": "\\udfff", "status": "\\ud800"}'),
    "nested too deep": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "form, too many fields": (FORM, "&".join(f"f{i}=1" for i in range(1200)).encode()),
    "multipart, too many fields": (MULTIPART, multipart([(f"f{i}", "1") for i in range(1200)])),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE_BODIES))
@pytest.mark.parametrize(("method", "path"), JSON_OPERATIONS)
def test_a_body_the_server_cannot_read_is_a_400_saying_why(method, path, case, admin_user):
    content_type, data = UNREADABLE_BODIES[case]
    response = _token_client(admin_user).generic(method.upper(), path, data, content_type=content_type)
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert set(response.json()) == {"detail"}, response.json()


# Found: a claim search whose body was a JSON list or string answered 500, and one holding a list
# or an object where a string belongs was read as no filter at all (every claim, 200).
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"patient_control_number": "X"}], "non_field_errors"),
        ("X", "non_field_errors"),
        ({"patient_control_number": ["A", "B"]}, "patient_control_number"),
        ({"payer_claim_number": {"a": 1}}, "payer_claim_number"),
        ({"payer": 2**63}, "payer"),
    ],
)
def test_a_claim_search_body_of_the_wrong_shape_is_a_400_naming_it(body, field, admin_user):
    response = _token_client(admin_user).post("/api/claims/search/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert field in response.json()


def test_a_write_method_the_schema_does_not_list_is_a_405_and_changes_nothing(admin_client_):
    """PUT and DELETE on an appeal, POST on a denial or the analytics, ...: every path of the
    schema answers every write method it does not document with 405 and a reason."""
    schema = json.loads(admin_client_.get("/api/schema/", {"format": "json"}).content)["paths"]
    tried = 0
    for path, item in schema.items():
        url = path.replace("{id}", "1")
        for method in WRITE_METHODS:
            if method in item:
                continue
            before = fingerprint()
            response = admin_client_.generic(method.upper(), url, b'{"id": 2}', content_type="application/json")
            assert response.status_code == 405, (method, url, response.status_code)
            assert_says_why(response, frozenset())
            assert fingerprint() == before
            tried += 1
    assert tried == len(WRITE_METHODS) * len(schema) - len(OPERATIONS), tried
