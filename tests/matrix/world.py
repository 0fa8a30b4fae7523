"""Two billing teams with their own patients, and one user per persona, built through the services.

Each team's patient data is made of strings found nowhere else (``ALPHA...`` for team A, ``BRAVO...``
for team B), so a page can be searched for the other team's patients: any hit is a leak.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

TEAM_TAGS = {"A": "ALPHA", "B": "BRAVO"}
#: Personas in the order the test ids show them.
PERSONAS = ("anonymous", "norole", "coder_a", "coder_b", "manager_a", "manager_b", "admin")
#: Which team each persona works on (none for the others).
PERSONA_TEAM = {"coder_a": "A", "coder_b": "B", "manager_a": "A", "manager_b": "B"}


def patient_strings(tag: str) -> tuple[str, ...]:
    """Everything that identifies a team's patient or claim: name, member id, claim numbers, file
    name, and the words of its note, clinical document and evidence."""
    return (
        f"{tag}PATIENT",  # patient last name
        f"{tag}MEMBER",  # member id
        f"{tag}PCN",  # patient control number (the provider's claim number)
        f"{tag}ICN",  # payer claim number
        f"{tag.lower()}-remittance",  # remittance file name
        f"{tag}NOTE",  # a coder's note on the denial
        f"{tag}OPERATIVE",  # clinical document text, and the evidence quoted from it
    )


def remittance_835(*, tags: tuple[str, ...], serial: int) -> bytes:
    """One 5010 835 with one claim per tag, for that tag's patient: two denied lines (CO-97, CO-16)
    and one paid line each."""
    lines = [
        ("17000", "200.00", "150.00", "CO*45*50", ""),
        ("11102", "400.00", "0", "CO*97*400", "M15"),
        ("99213", "150.00", "0", "CO*16*150", "M51"),
    ]
    total_paid = f"{150 * len(tags)}.00"
    segs = [
        "ST*835*0001",
        f"BPR*I*{total_paid}*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*20261001",
        f"TRN*1*MATRIX{serial}*1234567890",
        "N1*PR*LAKESHORE HEALTH PLAN",
        "REF*2U*LAKE1",
        "N1*PE*RIVERSIDE CLINIC*XX*1234567893",
        "LX*1",
    ]
    for tag in tags:
        segs += [
            f"CLP*{tag}PCN{serial}*1*750.00*150.00**12*{tag}ICN{serial}",
            f"NM1*QC*1*{tag}PATIENT*JANE****MI*{tag}MEMBER{serial}",
            "DTM*232*20260914",
        ]
        for code, charge, line_paid, cas, rarc in lines:
            segs += [f"SVC*HC:{code}*{charge}*{line_paid}**1", "DTM*472*20260914", f"CAS*{cas}"]
            if rarc:
                segs.append(f"LQ*HE*{rarc}")
    segs.append(f"SE*{len(segs) + 1}*0001")
    isa = (
        f"ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *261001*1200*^*00501*{serial:09d}*0*P*:"
    )
    envelope = [
        isa,
        f"GS*HP*PAYER*CLINIC*20261001*1200*{serial}*X*005010X221A1",
        *segs,
        f"GE*1*{serial}",
        f"IEA*1*{serial:09d}",
    ]
    return ("~".join(envelope) + "~").encode()


def operative_note(tag: str) -> str:
    return (
        f"{tag}OPERATIVE NOTE\n"
        "Procedure: destruction of a premalignant lesion, left forearm (17000).\n"
        "A separate lesion on the right scalp was biopsied through a separate incision (11102).\n"
    )


#: The passage the evidence-save action quotes (present in both teams' documents).
EVIDENCE_QUOTE = "separate lesion on the right scalp"


@dataclass
class TeamData:
    tag: str
    team: Any
    queue: Any
    file: Any
    claim: Any
    denials: list[Any]
    document: Any
    evidence: Any
    note: Any

    @property
    def denial(self) -> Any:
        """The denial every denial URL of this team is filled with (it carries the evidence)."""
        return self.denials[0]


@dataclass
class World:
    users: dict[str, Any]
    teams: dict[str, TeamData]
    ncci_import: Any
    code_list_import: Any
    #: A remittance file with a claim of each team: each sees it, with only their own claim.
    shared_file: Any

    def team_of(self, persona: str) -> TeamData | None:
        key = PERSONA_TEAM.get(persona)
        return self.teams[key] if key else None


def _user(username: str, *, role: str = "", team: Any = None, staff: bool = False) -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create(username=username, is_staff=staff)
    user.set_unusable_password()  # force_login only; no slow password hashing at module setup
    user.save()
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    if team is not None:
        team.members.add(user)
    return user


def _ingest(*, name: str, content: bytes) -> Any:
    from denials.models import RemittanceFile
    from denials.services import remittance_file_ingest, remittance_file_receive

    received = remittance_file_receive(name=name, content=content, source=RemittanceFile.Source.COMMAND, queue=False)
    file = remittance_file_ingest(file_id=received.pk, task_id=f"matrix-{uuid.uuid4()}")
    file.refresh_from_db()
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    return file


def _team(key: str, *, serial: int, author: Any) -> TeamData:
    from denials.models import Denial, Team, WorkQueue
    from denials.services import denial_add_note, document_upload, evidence_save

    tag = TEAM_TAGS[key]
    team = Team.objects.create(name=f"Matrix team {key}")
    queue = WorkQueue.objects.create(name=f"Matrix queue {key}", team=team)
    file = _ingest(name=f"{tag.lower()}-remittance.835", content=remittance_835(tags=(tag,), serial=serial))
    # Route the file's denials to the team's queue directly: the matrix is about who sees a
    # queue, not about which rule put a denial there.
    Denial.objects.filter(claim__remittance__file=file).update(queue=queue)
    denials = list(Denial.objects.filter(claim__remittance__file=file).select_related("claim").order_by("id"))
    assert len(denials) == 2, f"expected the CO-97 and CO-16 denials of {tag}, got {denials}"
    claim = denials[0].claim
    team.members.add(author)
    document = document_upload(
        claim=claim,
        name=f"{tag.lower()}-note.txt",
        content=operative_note(tag).encode(),
        actor=author,
        title="Operative note",
    )
    start = document.text.index(f"{tag}OPERATIVE")
    evidence = evidence_save(
        denial=denials[0],
        document=document,
        start=start,
        end=start + len(f"{tag}OPERATIVE"),
        kind="other",
        actor=author,
    )
    note = denial_add_note(denial=denials[0], author=author, body=f"{tag}NOTE called the payer")
    for denial in denials:
        denial.refresh_from_db()
    return TeamData(
        tag=tag,
        team=team,
        queue=queue,
        file=file,
        claim=claim,
        denials=denials,
        document=document,
        evidence=evidence,
        note=note,
    )


def build_world() -> World:
    """Both teams' data and the seven personas (anonymous has no user)."""
    from denials.models import Denial
    from denials.services import adjustment_rules_load_defaults, category_rules_load_defaults
    from ncci.models import NcciImport

    adjustment_rules_load_defaults()
    category_rules_load_defaults()
    users: dict[str, Any] = {"norole": _user("matrix-norole")}
    teams: dict[str, TeamData] = {}
    for serial, key in enumerate(("A", "B"), start=9101):
        author = _user(f"matrix-author-{key.lower()}", role="coder")
        teams[key] = _team(key, serial=serial, author=author)
        users[f"coder_{key.lower()}"] = _user(f"matrix-coder-{key.lower()}", role="coder", team=teams[key].team)
        users[f"manager_{key.lower()}"] = _user(f"matrix-manager-{key.lower()}", role="manager", team=teams[key].team)
    users["admin"] = _user("matrix-admin", role="admin", staff=True)
    # A file shared by both teams: one claim of each, each claim's denials in its team's queue.
    shared = _ingest(name="shared-remittance.835", content=remittance_835(tags=tuple(TEAM_TAGS.values()), serial=9103))
    for key, tag in TEAM_TAGS.items():
        routed = Denial.objects.filter(claim__remittance__file=shared, claim__patient_last_name=f"{tag}PATIENT")
        assert routed.update(queue=teams[key].queue) == 2, f"the shared file's {tag} claim has no denials"
    ncci_import = NcciImport.objects.create(
        filename="matrix-ptp.txt", table="ptp", setting="practitioner", quarter="2026Q3"
    )
    from ncci.models import CodeListImport

    code_list_import = CodeListImport.objects.create(code_list="carc", filename="matrix-carc.csv", status="done")
    return World(
        users=users, teams=teams, ncci_import=ncci_import, code_list_import=code_list_import, shared_file=shared
    )
