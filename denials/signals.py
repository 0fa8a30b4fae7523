"""Signals the denials app sends; other apps listen (denials imports no app above it)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent once a remittance file's rows are stored and its new denials triaged, inside the
#: transaction that marks the file ingested: a receiver's writes commit with the file, and a
#: receiver that raises fails this ingest attempt (recorded on the file, retried) rather than
#: leaving a file ingested with its follow-up work lost. ``sender`` is ``RemittanceFile``.
#: Keyword arguments: ``file_id`` (the file whose claims were just stored). Not sent for a
#: file whose every remittance was already stored from another file (nothing new arrived).
remittance_file_stored = Signal()
