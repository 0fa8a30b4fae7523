"""Admin for reference data: search, add, edit, retire, CSV export/import, full history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Cast
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from ncci.models import (
    Carc,
    CodeListImport,
    GroupCode,
    Modifier,
    Mue,
    NcciImport,
    ProcedureCode,
    PtpEdit,
    Rarc,
    SpecialtyRange,
)


class ReadableHistoryHelper(HistoricalRecordContextHelper):
    """The history page in words: a choice field shows its label ("Anatomic", not "anatomic"),
    an empty value a dash, never "None"; field names are already their verbose names."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        choices = dict(getattr(field, "flatchoices", ()) or ())
        if value in (None, ""):
            return "—"
        return choices.get(value, value)


class ReadableHistory(SimpleHistoryAdmin):
    """Every history page of the admin (reference tables, rules, queues) reads as words."""

    def get_historical_record_context_helper(self, request: Any, historical_record: Any) -> Any:
        return ReadableHistoryHelper(self.model, historical_record)


class CodeAdmin(ImportExportModelAdmin, ReadableHistory):
    """Retiring a code means setting its stop date; rows are kept for old remittances."""

    list_display: tuple[str, ...] = ("code", "summary", "description", "start_date", "stop_date")
    search_fields: tuple[str, ...] = ("code", "summary", "description")
    list_filter: tuple[str, ...] = ("stop_date",)


@admin.register(Carc)
class CarcAdmin(CodeAdmin):
    list_display = ("code", "summary", "description", "default_category", "start_date", "stop_date")
    list_filter = ("default_category",)

    def get_ordering(self, request: Any) -> list[Any]:
        """Numbers first in numeric order, then the letter codes alphabetically.

        CARCs are numbers stored as text ("1", "16", "97", "242") plus a few letter codes
        ("A1", "B7", "P12"): sorted as text, 100 would come before 16.
        """
        numeric = Q(code__regex=r"^[0-9]+$")
        return [
            Case(When(numeric, then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
            Case(When(numeric, then=Cast("code", IntegerField())), default=None, output_field=IntegerField()).asc(),
            "code",
        ]


@admin.register(Rarc)
class RarcAdmin(CodeAdmin):
    pass


@admin.register(GroupCode)
class GroupCodeAdmin(CodeAdmin):
    pass


@admin.register(ProcedureCode)
class ProcedureCodeAdmin(CodeAdmin):
    list_display = ("code", "short_description", "start_date", "stop_date")
    search_fields = ("code", "short_description", "description")


@admin.register(Modifier)
class ModifierAdmin(CodeAdmin):
    list_display = ("code", "description", "bypass_group", "start_date", "stop_date")
    list_filter = ("bypass_group",)


@admin.register(PtpEdit)
class PtpEditAdmin(ImportExportModelAdmin, ReadableHistory):
    list_display = ("column1", "column2", "setting", "modifier_indicator", "effective_date", "deletion_date", "quarter")
    list_filter = ("setting", "modifier_indicator", "quarter")
    search_fields = ("=column1", "=column2")
    show_full_result_count = False  # millions of rows: skip the extra COUNT(*)


@admin.register(Mue)
class MueAdmin(ImportExportModelAdmin, ReadableHistory):
    list_display = ("code", "setting", "mue_value", "adjudication_indicator", "rationale", "quarter")
    list_filter = ("setting", "adjudication_indicator", "quarter")
    search_fields = ("=code",)


@admin.register(NcciImport)
class NcciImportAdmin(admin.ModelAdmin):
    list_display = (
        "filename",
        "table",
        "setting",
        "quarter",
        "status",
        "added",
        "changed",
        "unchanged",
        "rejected",
        "created_at",
    )
    list_filter = ("status", "table", "setting", "quarter")
    readonly_fields = [f.name for f in NcciImport._meta.fields]


@admin.register(CodeListImport)
class CodeListImportAdmin(admin.ModelAdmin):
    """The reports of the code-list importer (the upload page is ncci:code_import)."""

    list_display = (
        "filename",
        "code_list",
        "status",
        "added",
        "changed",
        "unchanged",
        "retired",
        "refused",
        "created_at",
    )
    list_filter = ("status", "code_list")
    readonly_fields = [f.name for f in CodeListImport._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(SpecialtyRange)
class SpecialtyRangeAdmin(ReadableHistory):
    """Procedure code ranges -> specialty, for the managers' figures per specialty."""

    list_display = ("first", "last", "specialty", "position")
    list_editable = ("specialty", "position")
    search_fields = ("specialty", "=first", "=last")
    list_filter = ("specialty",)
