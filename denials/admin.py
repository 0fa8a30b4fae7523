from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from denials.models import (
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


class RetriageOnChange:
    """Triage reads this table: after an admin changes it, re-triage the denials not yet
    worked (a Celery task, queued once the change is committed)."""

    def _retriage(self) -> None:
        from denials.tasks import retriage_open_denials

        retriage_open_denials.delay_on_commit()

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        self._retriage()

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)  # type: ignore[misc]
        self._retriage()

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        self._retriage()


@admin.register(CategoryRule)
class CategoryRuleAdmin(RetriageOnChange, SimpleHistoryAdmin):
    list_display = ("category", "group_code", "carc", "rarc", "payer", "procedure_code", "priority", "note")
    list_filter = ("category", "group_code")
    search_fields = ("=carc", "=rarc", "category", "note")
    list_select_related = ("payer",)


@admin.register(WorkQueue)
class WorkQueueAdmin(SimpleHistoryAdmin):
    list_display = ("name", "team", "description")
    list_select_related = ("team",)


@admin.register(QueueRule)
class QueueRuleAdmin(RetriageOnChange, SimpleHistoryAdmin):
    list_display = ("queue", "category", "payer", "priority")
    list_select_related = ("queue", "payer")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("members",)
    search_fields = ("name",)


@admin.register(Payer)
class PayerAdmin(RetriageOnChange, admin.ModelAdmin):  # the appeal window sets due dates
    list_display = ("name", "identifier", "payer_key", "appeal_window_days")
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


@admin.register(ClaimPayment)
class ClaimPaymentAdmin(admin.ModelAdmin):
    list_display = ("patient_control_number", "payer", "status_code", "charge", "paid")
    search_fields = ("=patient_control_number", "=payer_claim_number")
    list_select_related = ("payer",)
    raw_id_fields = ("remittance", "previous_payment", "reverses", "payer")


@admin.register(Denial)
class DenialAdmin(admin.ModelAdmin):
    list_display = ("claim", "group_code", "carc", "amount", "status")
    list_filter = ("status", "group_code")
    raw_id_fields = ("claim", "line", "payer")
    filter_horizontal = ()
    exclude = ("adjustments",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "actor_label", "action", "target_repr")
    list_filter = ("action",)
    search_fields = ("target_repr", "action")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the trail is append-only

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
