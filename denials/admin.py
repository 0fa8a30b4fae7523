from __future__ import annotations

from django.contrib import admin

from denials.models import AdjustmentRule, AuditEvent, ClaimPayment, Denial, Payer, Provider, RemittanceFile, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("members",)
    search_fields = ("name",)


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
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
