"""Admin for the appeals app.

- Appeals: read-mostly. The facts (status, outcome, amounts, dates) change on the appeal page,
  through ``appeals.services`` (versioned, audited, handed back to the denials); here only the
  payer's reference and the notes may be edited, through the same service. Never deleted.
  Opening one writes an ``AccessEvent`` (it shows a patient's claim).
- Appeal level rules: plain edit, with history.
- Letter templates: edit with history, and a **preview** that writes the letter with a real
  appeal or denial the admin may see, showing a template error in plain words.
- Follow-ups: read-only (written by the 835 ingest).
- Reference lines: the published figures the managers' dashboard shows beside the team's own;
  edit the wording, figure or source, or untick "shown" to hide one (with history).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from simple_history.admin import SimpleHistoryAdmin

from appeals import services
from appeals.letters import LetterTemplateError, context_help, letter_render
from appeals.models import Appeal, AppealFollowUp, AppealLevelRule, LetterTemplate, ReferenceLine
from appeals.package import appeal_package, denial_package
from appeals.selectors import appeals_visible_to
from denials.admin import RecordsViews
from denials.models import AccessEvent
from denials.selectors import denials_visible_to
from denials.services.access import access_record


@admin.register(Appeal)
class AppealAdmin(RecordsViews, admin.ModelAdmin):
    list_display = ("id", "claim", "level", "status", "due_date", "outcome", "amount_recovered", "updated_at")
    list_filter = ("status", "level", "outcome")
    search_fields = ("=id", "=claim__patient_control_number", "=claim__payer_claim_number", "=payer_reference")
    list_select_related = ("claim",)
    raw_id_fields = ("claim", "denials", "previous", "created_by")
    date_hierarchy = "due_date"
    show_full_result_count = False
    #: What the admin may change: the record, not the facts (as ``services.FINAL_EDITABLE_FIELDS``).
    editable = ("payer_reference", "notes")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Appeal._meta.get_fields() if f.concrete and f.name not in self.editable] + ["denials"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an appeal starts from its denials, on the denial page or the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the appeal trail is kept; withdraw it instead

    def save_model(self, request: HttpRequest, obj: Appeal, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in self.editable if name in form.changed_data}
        if not changes:
            return
        current = Appeal.objects.get(pk=obj.pk)
        try:
            services.appeal_update(
                appeal=current,
                expected_version=current.version,
                actor=request.user,  # type: ignore[arg-type]  # the admin is signed in
                **changes,
            )
        except (services.AppealRefused, services.AppealConflict) as exc:
            messages.error(request, f"Not saved: {exc}")


@admin.register(AppealLevelRule)
class AppealLevelRuleAdmin(SimpleHistoryAdmin):
    list_display = ("payer_kind", "rank", "level", "days", "receipt_days", "years", "minimum_amount", "source")
    list_filter = ("payer_kind",)
    ordering = ("payer_kind", "rank", "level")


@admin.register(LetterTemplate)
class LetterTemplateAdmin(SimpleHistoryAdmin):
    list_display = ("name", "category", "payer", "active", "updated_at")
    list_filter = ("active", "category")
    search_fields = ("name", "subject", "body")
    list_select_related = ("payer",)
    raw_id_fields = ("payer",)
    change_form_template = "admin/appeals/lettertemplate/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="appeals_lettertemplate_preview",
        )
        return [preview, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        extra = {**(extra_context or {}), "context_help": context_help()}
        return super().change_view(request, object_id, form_url, extra)

    def add_view(self, request, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        extra = {**(extra_context or {}), "context_help": context_help()}
        return super().add_view(request, form_url, extra)

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The letter written with a real appeal (or a denial, as if appealed alone) the admin may see."""
        template = get_object_or_404(LetterTemplate, pk=object_id)
        if not self.has_view_or_change_permission(request, template):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        letter, error, record = None, "", None
        appeal_id, denial_id = request.GET.get("appeal", "").strip(), request.GET.get("denial", "").strip()
        if appeal_id or denial_id:
            record, error = _preview_record(request, appeal_id=appeal_id, denial_id=denial_id)
        if record is not None:
            access_record(actor=request.user, action=AccessEvent.Action.VIEW, target=record, path=request.path)
            package = (
                appeal_package(appeal=record, with_content=False)
                if isinstance(record, Appeal)
                else denial_package(denial=record)
            )
            try:
                letter = letter_render(package=package, template=template)
            except LetterTemplateError as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": template,
            "title": f"Preview: {template.name}",
            "letter": letter,
            "error": error,
            "appeal_id": appeal_id,
            "denial_id": denial_id,
            "change_url": reverse("admin:appeals_lettertemplate_change", args=[template.pk]),
            "context_help": context_help(),
        }
        return TemplateResponse(request, "admin/appeals/lettertemplate/preview.html", context)


def _preview_record(request: HttpRequest, *, appeal_id: str, denial_id: str) -> tuple[Any, str]:
    """The appeal or denial to preview with, if it exists and the admin may see it; else the reason."""
    if appeal_id:
        if not appeal_id.isdigit():
            return None, f"“{appeal_id}” is not an appeal number."
        found = appeals_visible_to(user=request.user).filter(pk=int(appeal_id)).first()
        return (found, "") if found else (None, f"No appeal {appeal_id} that you may see.")
    if not denial_id.isdigit():
        return None, f"“{denial_id}” is not a denial number."
    denial = denials_visible_to(user=request.user).filter(pk=int(denial_id)).select_related("payer").first()
    return (denial, "") if denial else (None, f"No denial {denial_id} that you may see.")


@admin.register(ReferenceLine)
class ReferenceLineAdmin(SimpleHistoryAdmin):
    list_display = ("label", "measures", "low", "high", "source", "shown", "position")
    list_editable = ("shown", "position")
    list_filter = ("measures", "shown")
    search_fields = ("label", "source")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("key",) if obj is not None else ()


@admin.register(AppealFollowUp)
class AppealFollowUpAdmin(admin.ModelAdmin):
    list_display = ("appeal", "kind", "amount", "claim", "line", "recorded_at")
    list_filter = ("kind",)
    list_select_related = ("appeal", "claim", "line")
    raw_id_fields = ("appeal", "claim", "line", "denial", "redenial")
    search_fields = ("=appeal__id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
