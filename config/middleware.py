"""Cross-cutting HTTP rules that belong to no app: caching of patient data, the client's address."""

from __future__ import annotations

import time
from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, except on Django's own DEBUG error pages.

    With DEBUG=1, a 404 or 500 is Django's technical page, built with inline <style> and
    <script>: under the policy a developer would get an unreadable page. Those responses go
    out without the header. With DEBUG off (production) every response has the policy.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        return super().process_response(request, response)


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in user, and on every API response.

    Which pages carry patient data is a question each view would have to get right; the honest
    rule that cannot be forgotten is: anything a signed-in user sees may carry it, so no browser
    cache, back-button snapshot or shared proxy keeps a copy. Static files never reach this
    middleware (WhiteNoise answers them earlier) and stay cacheable. API calls are included even
    when anonymous: DRF signs a token user in inside the view, and a 401 is not worth caching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith("/api/"):
            add_never_cache_headers(response)
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The address sign-in throttling counts failures against.

    With no proxy, REMOTE_ADDR. Behind TRUSTED_PROXY_COUNT proxies, each appends the address it
    received the request from to X-Forwarded-For, so the client is that many entries from the
    right; anything further left was written by the client and could be forged to dodge a lockout.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


class IdleSessionMiddleware:
    """Slide a signed-in session's expiry forward, at most once a minute.

    The idle timeout (SESSION_COOKIE_AGE) counts from the last save of the session. Saving it
    on every request (SESSION_SAVE_EVERY_REQUEST) costs a write per page and htmx swap; marking
    it modified once a minute costs one write a minute and ends an idle session between
    SESSION_IDLE_MINUTES - 1 and SESSION_IDLE_MINUTES after the last request. Goes after
    SessionMiddleware and AuthenticationMiddleware.
    """

    KEY = "_overturn_refreshed_at"
    EVERY_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= self.EVERY_SECONDS:
                session[self.KEY] = now  # modified: SessionMiddleware saves it with a new expiry
        return response
