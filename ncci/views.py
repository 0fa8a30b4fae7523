from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def search(request: HttpRequest) -> HttpResponse:
    return render(request, "ncci/search.html", {})


def scrub(request: HttpRequest) -> HttpResponse:
    return render(request, "ncci/scrub.html", {})
