"""Appeals benchmark on PostgreSQL: the package PDF, and what open appeals add to ingest.

    python bench/appeals.py [--reps 3] [--pdf-runs 30]

(a) The package PDF of an appeal whose claim has three documents (two PDFs of three pages,
    one text note, a passage quoted from it): ``appeal_package`` then ``appeal_package_pdf``,
    timed together over ``--pdf-runs`` runs after one warm-up; p50, p95, max.
(b) The ingest of a 1,000-claim follow-up 835 (received and ingested through the real
    services) with 1,000 open submitted appeals in the database, against the same file
    (a new trace number, so not a duplicate) ingested with no appeal open (the same appeals
    held back as ready, so the follow-up receiver finds none). Two files: (1) 1,000 other
    claims paid again, answering none of the appeals: the cost of open appeals being
    there; (2) all 1,000 claims answering an appeal, each decided (``appeals_decide_many``:
    the whole file's decisions at once). Each pair is run ``--reps`` times, alternating,
    the ingested file deleted and the appeals put back between runs; both are measured
    with the planner statistics the load left and again after ANALYZE. Reported: the
    medians' difference as a share of the ingest without open appeals, and the receiver's
    own time (timed inside the ingest) as the same share, the steadier figure, since two
    whole ingests also differ by the machine's noise.

Targets: PDF p95 under 500 ms; follow-up overhead under 10%.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, database_url, django_setup, fresh_database

APPEALS = 1000
FILE_CLAIMS = 1000


def _pdf_document(title: str, pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"{title}, page {page}. " + "Procedure note: separate site, separate incision. " * 40)
    return bytes(pdf.output())


def _build(actor) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """A 3,000-claim remittance ingested, and 1,000 submitted appeals on claims with a line denial."""
    import datetime as dt
    import uuid

    from appeals import services
    from appeals import vocabulary as v
    from denials import vocabulary as denial_words
    from denials.demo.parties import DEMO_PAYERS, DEMO_PROVIDERS
    from denials.demo.remittances import generate_835
    from denials.models import ClaimPayment, Denial
    from denials.services import remittance_file_ingest, remittance_file_receive

    content = generate_835(
        claims=3000,
        seed=31,
        payer=DEMO_PAYERS[0],
        provider=DEMO_PROVIDERS[0],
        payment_date=dt.date(2026, 10, 1),
        denial_rate=0.6,
    )
    file = remittance_file_receive(name="bench-appeals-base.835", content=content, source="command", queue=False)
    file = remittance_file_ingest(file_id=file.pk, task_id=f"bench-{uuid.uuid4()}")
    assert file.status == "ingested", file.error
    pcn_counts: dict[str, int] = {}
    for pcn in ClaimPayment.objects.values_list("patient_control_number", flat=True):
        pcn_counts[pcn] = pcn_counts.get(pcn, 0) + 1
    chosen: dict[int, Denial] = {}
    for denial in (
        Denial.objects.filter(line__isnull=False)
        .exclude(category=denial_words.BUNDLING_NOT_APPEALABLE)
        .select_related("claim", "line")
        .order_by("pk")
    ):
        if pcn_counts[denial.claim.patient_control_number] == 1 and denial.claim.status_code != "22":
            chosen.setdefault(denial.claim_id, denial)
        if len(chosen) == APPEALS:
            break
    assert len(chosen) == APPEALS, f"only {len(chosen)} claims to appeal"
    appeals = []
    for denial in chosen.values():
        appeal = services.appeal_create(denials=[denial], actor=actor)
        appeal = services.appeal_update(
            appeal=appeal, expected_version=appeal.version, actor=actor, status=v.STATUS_READY
        )
        appeal = services.appeal_update(
            appeal=appeal,
            expected_version=appeal.version,
            actor=actor,
            status=v.STATUS_SUBMITTED,
            submitted_on=dt.date(2026, 10, 10),
        )
        appeals.append(appeal)
    others = list(
        ClaimPayment.objects.exclude(pk__in=chosen)
        .exclude(status_code="22")
        .filter(service_lines__isnull=False, patient_control_number__in=[p for p, n in pcn_counts.items() if n == 1])
        .distinct()
        .order_by("pk")[:FILE_CLAIMS]
    )
    return appeals, others


def _answers(appeals, others, answering: int):  # type: ignore[no-untyped-def]
    from denials.models import ClaimPayment, ServiceLine

    answers = []
    for appeal in appeals[:answering]:
        denial = appeal.denials.select_related("line").get()
        claim = ClaimPayment.objects.select_related("payer", "remittance__payee").get(pk=appeal.claim_id)
        answers.append((claim, [(denial.line, denial.line.paid + denial.amount)]))
    for claim in others[: FILE_CLAIMS - answering]:
        claim = ClaimPayment.objects.select_related("payer", "remittance__payee").get(pk=claim.pk)
        lines = list(ServiceLine.objects.filter(claim=claim).order_by("sequence"))
        answers.append((claim, [(line, line.allowed if line.allowed is not None else line.paid) for line in lines]))
    return answers


def _ingest_seconds(answers, trace: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    import datetime as dt
    import uuid

    from appeals.demo import remittance_835
    from appeals.models import AppealFollowUp
    from denials.models import RemittanceFile
    from denials.services import remittance_file_ingest, remittance_file_receive

    content = remittance_835(answers=answers, payment_date=dt.date(2026, 11, 2), trace=trace)
    start = time.perf_counter()
    file = remittance_file_receive(name=f"{trace}.835", content=content, source="command", queue=False)
    file = remittance_file_ingest(file_id=file.pk, task_id=f"bench-{uuid.uuid4()}")
    elapsed = time.perf_counter() - start
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    rows = AppealFollowUp.objects.filter(claim__remittance__file=file).count()
    RemittanceFile.objects.filter(pk=file.pk).delete()
    return elapsed, rows


class _ReceiverClock:
    """Times the follow-up receiver itself (``appeals.followups.follow_ups_record``), which
    runs inside the ingest: the receiver's extra cost, less exposed to the machine's noise
    than the difference of two whole ingests."""

    def __init__(self) -> None:
        from appeals import followups

        self.seconds = 0.0
        self.queries = 0
        self.slowest: tuple[float, str] = (0.0, "")
        self.plan = ""
        self._record = followups.follow_ups_record
        followups.follow_ups_record = self  # type: ignore[assignment]  # the receiver looks it up at call time

    def __call__(self, **kwargs):  # type: ignore[no-untyped-def]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        connection.queries_log.clear()  # the log keeps 9,000 queries: a capture must not wrap around
        start = time.perf_counter()
        try:
            with CaptureQueriesContext(connection) as captured:
                return self._record(**kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries = len(captured.captured_queries)
            timed = [(float(q["time"]), q["sql"]) for q in captured.captured_queries]
            self.slowest = max(timed, default=(0.0, ""))
            if self.slowest[0] > 0.2 and not self.plan and self.slowest[1].startswith("SELECT"):
                with connection.cursor() as cursor:  # why the slowest query was slow, once
                    cursor.execute("EXPLAIN ANALYZE " + self.slowest[1])
                    self.plan = "\n".join(row[0] for row in cursor.fetchall())

    def take(self) -> float:
        seconds, self.seconds = self.seconds, 0.0
        return seconds


def _set_appeals(appeals, status: str) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from appeals.models import Appeal, AppealFollowUp

    ids = [a.pk for a in appeals]
    AppealFollowUp.objects.filter(appeal_id__in=ids).delete()
    Appeal.objects.filter(pk__in=ids).update(status=status, outcome="", amount_recovered=Decimal("0"), decided_on=None)


def measure(url: str, reps: int, pdf_runs: int) -> dict[str, object]:
    django_setup(url)
    from django.contrib.auth import get_user_model

    from appeals.models import Appeal

    actor, _ = get_user_model().objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    appeals, others = _build(actor)
    results: dict[str, object] = {"appeals": Appeal.objects.filter(status="submitted").count()}

    # (a) The package PDF.
    results["pdf"] = _pdf(appeals[0], actor, pdf_runs)

    # (b) The follow-up receiver's cost. One ingest first, so no run pays the first-use costs.
    clock = _ReceiverClock()
    _set_appeals(appeals, "ready")
    _ingest_seconds(_answers(appeals, others, 0), "WARMUP")
    clock.take()
    # First with the planner statistics the load left (autovacuum may not have analysed the
    # new rows yet), then again after ANALYZE, as a database that has been running a while.
    for answering, analysed in ((0, False), (FILE_CLAIMS, False), (0, True), (FILE_CLAIMS, True)):
        if analysed:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        answers = _answers(appeals, others, answering)
        none: list[float] = []
        with_open: list[float] = []
        receiver: list[float] = []
        slowest: tuple[float, str] = (0.0, "")
        decided_rows = 0
        for rep in range(reps):
            _set_appeals(appeals, "ready")
            seconds, rows = _ingest_seconds(answers, f"BN{answering}R{rep}")
            assert rows == 0
            none.append(seconds)
            clock.take()
            _set_appeals(appeals, "submitted")
            seconds, decided_rows = _ingest_seconds(answers, f"BW{answering}R{rep}")
            with_open.append(seconds)
            receiver.append(clock.take())
            slowest = max(slowest, clock.slowest)
        _set_appeals(appeals, "submitted")
        base, loaded, extra = statistics.median(none), statistics.median(with_open), statistics.median(receiver)
        results[f"follow_up_{answering}{'_analysed' if analysed else ''}"] = {
            "analysed": analysed,
            "receiver_queries": clock.queries,
            "receiver_slowest_ms": slowest[0] * 1000,
            "receiver_slowest_sql": slowest[1][:400],
            "claims": len(answers),
            "answering": answering,
            "follow_up_rows": decided_rows,
            "none_s": base,
            "with_s": loaded,
            "overhead_pct": (loaded - base) / base * 100,
            "receiver_s": extra,
            "receiver_pct": extra / base * 100,
            "ms_per_answered_appeal": extra / answering * 1000 if answering else 0.0,
        }
    results["receiver_plan"] = clock.plan
    return results


def _pdf(appeal, actor, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import io

    from pypdf import PdfReader

    from appeals.package import appeal_package
    from appeals.pdf import appeal_package_pdf
    from denials.models import ClaimPayment
    from denials.services.documents import document_upload, evidence_save

    claim = ClaimPayment.objects.get(pk=appeal.claim_id)
    document_upload(claim=claim, name="operative-note.pdf", content=_pdf_document("Operative note", 3), actor=actor)
    document_upload(claim=claim, name="clinic-visit.pdf", content=_pdf_document("Clinic visit", 3), actor=actor)
    note = document_upload(
        claim=claim,
        name="coder-note.txt",
        content=("Lesion two was excised through a separate incision at a separate site.\n" * 30).encode(),
        actor=actor,
    )
    denial = appeal.denials.get()
    evidence_save(denial=denial, document=note, start=0, end=70, kind="separate-site", actor=actor)
    appeal_package_pdf(package=appeal_package(appeal=appeal))  # warm up
    times: list[float] = []
    pages = 0
    for _ in range(runs):
        start = time.perf_counter()
        pdf = appeal_package_pdf(package=appeal_package(appeal=appeal))
        times.append((time.perf_counter() - start) * 1000)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
    times.sort()
    return {
        "runs": runs,
        "pages": pages,
        "p50_ms": statistics.median(times),
        "p95_ms": times[max(0, int(len(times) * 0.95) - 1)],
        "max_ms": times[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--pdf-runs", type=int, default=30)
    parser.add_argument("--step", choices=["measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = database_url("appeals")
    if args.step == "measure":
        print(json.dumps(measure(url, args.reps, args.pdf_runs)))
        return
    fresh_database(url)
    out = subprocess.run(
        [sys.executable, __file__, "--step", "measure", "--reps", str(args.reps), "--pdf-runs", str(args.pdf_runs)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    pdf = r["pdf"]
    print(f"Appeals benchmark on {url.split('@')[-1]}")
    print(
        f"package PDF (3 documents, {pdf['pages']} pages), {pdf['runs']} runs: p50 {pdf['p50_ms']:.0f} ms, "
        f"p95 {pdf['p95_ms']:.0f} ms, max {pdf['max_ms']:.0f} ms"
    )
    print(f"follow-up 835 ingest, {r['appeals']:,} open submitted appeals vs none (median of {args.reps}):")
    for key in (k for k in r if k.startswith("follow_up_")):
        f = r[key]
        print(
            f"  {'after ANALYZE, ' if f['analysed'] else ''}{f['claims']:,} claims, {f['answering']:,} answering "
            f"appeals ({f['follow_up_rows']} follow-up rows): "
            f"none {f['none_s']:.2f} s, with {f['with_s']:.2f} s ({f['overhead_pct']:+.0f}%); "
            f"receiver {f['receiver_s'] * 1000:.0f} ms = {f['receiver_pct']:.1f}% of the ingest"
            + (f" ({f['ms_per_answered_appeal']:.1f} ms per appeal answered)" if f["answering"] else "")
        )
        print(
            f"      receiver: {f['receiver_queries']} queries; slowest {f['receiver_slowest_ms']:.0f} ms: "
            f"{f['receiver_slowest_sql'][:160]}"
        )
    print("targets: PDF p95 under 500 ms; follow-up overhead under 10%")
    if r.get("receiver_plan"):
        print("plan of the receiver's slowest query (the first run over 200 ms):")
        print(r["receiver_plan"])


if __name__ == "__main__":
    main()
