"""Reads for the denials app: every page and API endpoint gets its rows from here."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from denials.models import (
    Adjustment,
    AuditEvent,
    ClaimPayment,
    Denial,
    Remittance,
    RemittanceFile,
    ServiceLine,
)


def remittance_file_list() -> QuerySet[RemittanceFile]:
    # The stored bytes can be megabytes each: never load them for a list.
    return RemittanceFile.objects.select_related("payer", "duplicate_of").defer("content", "acknowledgement_999")


def remittance_file_get(*, file_id: int) -> RemittanceFile:
    return RemittanceFile.objects.select_related("payer", "duplicate_of", "uploaded_by").defer("content").get(
        pk=file_id
    )


def remittance_list_for_file(*, file: RemittanceFile) -> QuerySet[Remittance]:
    return file.remittances.select_related("payer", "payee").prefetch_related("provider_adjustments")


def claim_list(
    *,
    patient_control_number: str = "",
    payer_claim_number: str = "",
    payer_id: int | None = None,
    status: str = "",
    file_id: int | None = None,
) -> QuerySet[ClaimPayment]:
    claims = ClaimPayment.objects.select_related("payer", "remittance")
    if patient_control_number:
        claims = claims.filter(patient_control_number=patient_control_number.strip())
    if payer_claim_number:
        claims = claims.filter(payer_claim_number=payer_claim_number.strip())
    if payer_id:
        claims = claims.filter(payer_id=payer_id)
    if status:
        claims = claims.filter(status_code=status)
    if file_id:
        claims = claims.filter(remittance__file_id=file_id)
    return claims.order_by("-remittance__payment_date", "-id")


def claim_detail_queryset() -> QuerySet[ClaimPayment]:
    return ClaimPayment.objects.select_related(
        "payer", "remittance__file", "remittance__payee", "previous_payment", "reverses"
    ).prefetch_related(
        Prefetch(
            "service_lines",
            queryset=ServiceLine.objects.prefetch_related("adjustments", "remarks").order_by("sequence"),
        ),
        Prefetch("adjustments", queryset=Adjustment.objects.filter(line__isnull=True), to_attr="claim_adjustments"),
        "remarks",
        "denials",
    )


def claim_get(*, claim_id: int) -> ClaimPayment:
    return claim_detail_queryset().get(pk=claim_id)


def claim_history(*, claim: ClaimPayment) -> list[ClaimPayment]:
    """Every payment of the same claim by the same payer, oldest first, this one included."""
    return list(
        ClaimPayment.objects.filter(
            Q(patient_control_number=claim.patient_control_number, payer_claim_number=claim.payer_claim_number)
            | Q(pk=claim.pk),
            payer_id=claim.payer_id,
        )
        .select_related("remittance")
        .order_by("remittance__payment_date", "id")
    )


def code_descriptions(*, carcs: set[str], rarcs: set[str]) -> dict[str, str]:
    """{'CARC:97': '...', 'RARC:M15': '...'} for the codes asked, in two queries."""
    from ncci.models import Carc, Rarc

    found = {f"CARC:{c}": d for c, d in Carc.objects.filter(code__in=carcs).values_list("code", "description")}
    found.update({f"RARC:{c}": d for c, d in Rarc.objects.filter(code__in=rarcs).values_list("code", "description")})
    return found


def audit_events_for(*, target_type_id: int, target_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type_id=target_type_id, target_id=str(target_id)).select_related("actor")


def denials_visible_to(*, user: Any) -> QuerySet[Denial]:
    """The one place that decides which denials a user may see.

    Admins (and superusers) see every denial; coders and managers see the denials in
    their teams' work queues, and nothing else (another team's id answers 404).
    """
    from denials.roles import is_admin

    denials = Denial.objects.all()
    if is_admin(user):
        return denials
    return denials.filter(queue__team__members=user)


def denial_list(
    *,
    user: Any,
    category: str = "",
    queue_id: int | None = None,
    status: str = "",
    payer_id: int | None = None,
    carc: str = "",
    column1: str = "",
    column2: str = "",
    assignee_id: int | None = None,
    due_before: Any = None,
) -> QuerySet[Denial]:
    denials = denials_visible_to(user=user).select_related(
        "claim", "line", "payer", "queue", "assignee"
    )
    filters: dict[str, Any] = {}
    if category:
        filters["category"] = category
    if queue_id:
        filters["queue_id"] = queue_id
    if status:
        filters["status"] = status
    if payer_id:
        filters["payer_id"] = payer_id
    if carc:
        filters["carc"] = carc
    if column1:
        filters["ncci_column1"] = column1
    if column2:
        filters["ncci_column2"] = column2
    if assignee_id:
        filters["assignee_id"] = assignee_id
    if due_before:
        filters["due_date__lte"] = due_before
    return denials.filter(**filters).order_by("-priority", "due_date", "id")
