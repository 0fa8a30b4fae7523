"""Admin for the denials app.

Large tables (claims, service lines, adjustments, NCCI edits) are never offered in a
dropdown: foreign keys to them are raw ids, so no form lists every row. The audit and
access trails are read-only for everyone, superusers included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from denials import services
from denials.models import (
    AccessEvent,
    AdjustmentRule,
    AuditEvent,
    CategoryRule,
    ClaimPayment,
    Denial,
    Payer,
    Provider,
    QueueRule,
    RemittanceFile,
    Team,
    WorkQueue,
)


class SavedThroughService:
    """Triage reads this table: saves and deletes go through ``denials.services.reference``,
    which validates, audits and re-triages the denials not yet worked (so any caller of the
    service re-triages, not only this screen)."""

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        _SAVE[type(obj)](obj, request.user)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        services.reference_rows_delete(rows=[obj], actor=request.user)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        services.reference_rows_delete(rows=list(queryset), actor=request.user)


_SAVE: dict[type[Any], Callable[[Any, Any], object]] = {
    CategoryRule: lambda obj, actor: services.category_rule_save(rule=obj, actor=actor),
    QueueRule: lambda obj, actor: services.queue_rule_save(rule=obj, actor=actor),
    Payer: lambda obj, actor: services.payer_save(payer=obj, actor=actor),
}


@admin.register(CategoryRule)
class CategoryRuleAdmin(SavedThroughService, SimpleHistoryAdmin):
    list_display = ("category", "group_code", "carc", "rarc", "payer", "procedure_code", "priority", "note")
    list_filter = ("category", "group_code")
    search_fields = ("=carc", "=rarc", "category", "note")
    list_select_related = ("payer",)


@admin.register(WorkQueue)
class WorkQueueAdmin(SimpleHistoryAdmin):
    list_display = ("name", "team", "description")
    list_select_related = ("team",)


@admin.register(QueueRule)
class QueueRuleAdmin(SavedThroughService, SimpleHistoryAdmin):
    list_display = ("queue", "category", "payer", "priority")
    list_select_related = ("queue", "payer")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("members",)
    search_fields = ("name",)


@admin.register(Payer)
class PayerAdmin(SavedThroughService, admin.ModelAdmin):  # the appeal window sets due dates
    list_display = ("name", "kind", "identifier", "payer_key", "appeal_window_days")
    list_filter = ("kind",)
    search_fields = ("name", "identifier", "payer_key")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "npi", "tin")
    search_fields = ("name", "npi", "tin")


@admin.register(AdjustmentRule)
class AdjustmentRuleAdmin(admin.ModelAdmin):
    list_display = ("group_code", "carc", "kind", "note")
    list_filter = ("kind", "group_code")
    search_fields = ("carc", "note")


@admin.register(RemittanceFile)
class RemittanceFileAdmin(admin.ModelAdmin):
    list_display = ("original_name", "status", "source", "claim_count", "denial_count", "received_at")
    list_filter = ("status", "source")
    exclude = ("content",)
    readonly_fields = [f.name for f in RemittanceFile._meta.fields if f.name != "content"]


class RecordsViews:
    """An admin change page shows a patient's data: it writes an AccessEvent like the app's pages."""

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        from denials.services import access_record

        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        obj = getattr(response, "context_data", {}).get("original") if response.status_code == 200 else None
        if obj is not None:
            access_record(actor=request.user, action=AccessEvent.Action.VIEW, target=obj, path=request.path)
        return response


@admin.register(ClaimPayment)
class ClaimPaymentAdmin(RecordsViews, admin.ModelAdmin):
    list_display = ("patient_control_number", "payer", "status_code", "charge", "paid")
    search_fields = ("=patient_control_number", "=payer_claim_number")
    list_select_related = ("payer",)
    raw_id_fields = ("remittance", "previous_payment", "reverses", "payer")


@admin.register(Denial)
class DenialAdmin(RecordsViews, admin.ModelAdmin):
    list_display = ("claim", "group_code", "carc", "amount", "status")
    list_filter = ("status", "group_code")
    list_select_related = ("claim",)
    # Millions of NCCI edits and service lines: ids, never a dropdown of every row.
    raw_id_fields = ("claim", "line", "pair_line", "payer", "ptp_edit", "queue", "assignee")
    filter_horizontal = ()
    exclude = ("adjustments",)


class ReadOnlyTrailAdmin(admin.ModelAdmin):
    """An append-only trail: listed and filtered, never added, changed or deleted here,
    whoever asks (the models refuse it too: AppendOnlyModel)."""

    list_select_related = ("actor", "target_type")
    date_hierarchy = "at"
    show_full_result_count = False  # a long trail: skip the extra COUNT(*)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTrailAdmin):
    list_display = ("at", "actor_label", "actor", "action", "target_type", "target_id", "target_repr")
    list_filter = ("action", "target_type")
    search_fields = ("=target_id", "target_repr", "action", "actor_label")


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyTrailAdmin):
    list_display = ("at", "actor_label", "actor", "action", "target_type", "target_id", "path")
    list_filter = ("action", "target_type")
    search_fields = ("=target_id", "=actor_label", "path")
