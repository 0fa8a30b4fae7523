"""Signals the ncci app sends; other apps listen (ncci imports no other app)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after PTP/MUE rows or modifier definitions changed (an import, an admin edit).
#: Keyword arguments: table ("ptp", "mue", "modifier", or "codes" after code lists were loaded).
reference_data_changed = Signal()
