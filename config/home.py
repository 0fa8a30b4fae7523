"""Where ``/`` sends each person: managers and admins to the dashboard (issue 11), everyone
else where ``denials.views.home`` sends them (a billing team's worklist, else the files).

A project-level view because the dashboard belongs to ``appeals`` and ``denials`` never
imports ``appeals``: ``config`` wires the apps together and may know both.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from denials import views as denials_views
from denials.roles import is_manager


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if is_manager(request.user):
        return redirect("analytics:dashboard")
    return denials_views.home(request)  # type: ignore[arg-type]
