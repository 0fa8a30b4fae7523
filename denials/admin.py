"""Admin for the denials app.

Large tables (claims, service lines, adjustments, NCCI edits) are never offered in a
dropdown: foreign keys to them are raw ids, so no form lists every row. The audit and
access trails are read-only for everyone, superusers included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.utils.html import format_html

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
from denials.services import retriage_report
from ncci import admin as ncci_admin
from ncci.admin import ReadableHistory
from ncci.models import Carc, Modifier, Rarc


class ReportsRetriage:
    """After a change to a table triage reads, the admin's message says what it did to the work:
    "The payer “Acme” was changed successfully. 37 open denials were re-triaged; 5 changed
    category, queue or next step." (``denials.services.retriage_report``: the open denials the old
    or new row can affect are re-triaged at once, so the count is real, not a promise)."""

    _NOTE = "_overturn_retriage_note"

    def retriage_now(self, request: Any, scope: Any) -> None:
        report = retriage_report.open_denials_retriage(scope=scope, actor=request.user)
        setattr(request, self._NOTE, report.message)

    def message_user(self, request, message, level=messages.INFO, extra_tags="", fail_silently=False):  # type: ignore[no-untyped-def]
        note = getattr(request, self._NOTE, "")
        if note and level == messages.SUCCESS:
            message = format_html("{} {}", message, note)
            setattr(request, self._NOTE, "")
        super().message_user(request, message, level, extra_tags, fail_silently)  # type: ignore[misc]


def _stored(obj: Any) -> Any:
    """The row as the database still holds it (the form has already changed ``obj``)."""
    return type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None


class SavedThroughService(ReportsRetriage):
    """Triage reads this table: saves and deletes go through ``denials.services.reference``,
    which validates, audits and queues the re-triage of the denials not yet worked (so any
    caller of the service re-triages, not only this screen); this screen also re-triages at
    once the ones the change can affect, and says how many."""

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        before = _stored(obj)
        _SAVE[type(obj)](obj, request.user)
        self.retriage_now(request, retriage_report.scope_of_rows([before, obj]))

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        scope = retriage_report.scope_of_rows([obj])
        services.reference_rows_delete(rows=[obj], actor=request.user)
        self.retriage_now(request, scope)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        rows = list(queryset)
        scope = retriage_report.scope_of_rows(rows)
        services.reference_rows_delete(rows=rows, actor=request.user)
        self.retriage_now(request, scope)


_SAVE: dict[type[Any], Callable[[Any, Any], object]] = {
    CategoryRule: lambda obj, actor: services.category_rule_save(rule=obj, actor=actor),
    QueueRule: lambda obj, actor: services.queue_rule_save(rule=obj, actor=actor),
    Payer: lambda obj, actor: services.payer_save(payer=obj, actor=actor),
}


@admin.register(CategoryRule)
class CategoryRuleAdmin(SavedThroughService, ReadableHistory):
    list_display = ("category", "group_code", "carc", "rarc", "payer", "procedure_code", "priority", "note")
    list_filter = ("category", "group_code")
    search_fields = ("=carc", "=rarc", "category", "note")
    list_select_related = ("payer",)


@admin.register(WorkQueue)
class WorkQueueAdmin(ReadableHistory):
    list_display = ("name", "team", "description")
    list_select_related = ("team",)


@admin.register(QueueRule)
class QueueRuleAdmin(SavedThroughService, ReadableHistory):
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
    list_display = ("at", "actor_label", "actor", "action", "target_type", "target_id", "target_repr", "changes")
    list_filter = ("action", "target_type")
    search_fields = ("=target_id", "target_repr", "action", "actor_label")
    # The stored old/new values are JSON for the machine; people read the changes in words.
    exclude = ("old", "new")
    readonly_fields = ("changes",)

    @admin.display(description="Changes")
    def changes(self, obj: AuditEvent) -> str:
        from denials.templatetags.overturn import audit_changes

        return "; ".join(f"{field}: {old} → {new}" for field, old, new in audit_changes(obj)) or "—"


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyTrailAdmin):
    list_display = ("at", "actor_label", "actor", "action", "target_type", "target_id", "path")
    list_filter = ("action", "target_type")
    search_fields = ("=target_id", "=actor_label", "path")


# --- Code words and modifier groups (ncci's admin, with what the change does to the work) ------
# ncci imports nothing of denials, so the ncci admin cannot re-triage; denials extends it here.
class RetriageOnSave(ReportsRetriage):
    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        before = _stored(obj)
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        self.retriage_now(request, retriage_report.scope_of_rows([before, obj]))


class CarcRetriageAdmin(RetriageOnSave, ncci_admin.CarcAdmin):
    pass


class RarcRetriageAdmin(RetriageOnSave, ncci_admin.RarcAdmin):
    pass


class ModifierRetriageAdmin(RetriageOnSave, ncci_admin.ModifierAdmin):
    pass


for _model, _model_admin in ((Carc, CarcRetriageAdmin), (Rarc, RarcRetriageAdmin), (Modifier, ModifierRetriageAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)
