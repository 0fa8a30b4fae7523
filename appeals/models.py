"""Appeal packages, deadlines and outcomes (a later issue builds this app)."""

from __future__ import annotations
