"""Claims, files and their APIs are seen through the team's queues; accounts with no role see nothing.

Personas: ``coder`` and ``manager`` (the first team, "ALPHA" patients), ``outsider`` and
``other_manager`` (the other team, "BRAVO" patients), ``admin_user``, and ``norole`` (on the
first team, but in no role group).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from denials.models import AccessEvent, ClaimPayment, Denial, RemittanceFile
from tests.factories import remittance_835

pytestmark = pytest.mark.django_db

ALPHA = ("ALPHAPATIENT", "ALPHAMEMBER", "ALPHAPCN", "ALPHAICN", "alpha-remittance")
BRAVO = ("BRAVOPATIENT", "BRAVOMEMBER", "BRAVOPCN", "BRAVOICN", "bravo-remittance")


def _text(response) -> str:
    return response.content.decode()


def _found(text: str, strings: tuple[str, ...]) -> list[str]:
    return [s for s in strings if s in text]


def _claim(tag: str) -> ClaimPayment:
    return ClaimPayment.objects.get(patient_last_name=f"{tag}PATIENT")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    def login(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return login


def _object_urls(files, tag: str, key: str) -> list[str]:
    claim = _claim(tag)
    denial = Denial.objects.filter(claim=claim).first()
    assert denial is not None
    return [
        reverse("denials:claim_detail", args=[claim.pk]),
        reverse("denials:file_detail", args=[files[key].pk]),
        reverse("denials:file_row", args=[files[key].pk]),
        f"/api/claims/{claim.pk}/",
        f"/api/remittance-files/{files[key].pk}/",
        f"/api/denials/{denial.pk}/",
    ]


# --- The reported defect: another team's claims and files -------------------------------------
def test_another_teams_claim_and_file_answer_404_on_every_page_and_api(team_files, outsider, client_for):
    client = client_for(outsider)
    urls = _object_urls(team_files, "ALPHA", "A")
    assert len(urls) == 6
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert not _found(_text(response), ALPHA), url
    assert not AccessEvent.objects.exists()  # a refusal showed nothing, so it records nothing


def test_lists_show_only_the_teams_claims_and_files(team_files, coder, outsider, client_for, api_for):
    for user, mine, theirs in ((coder, ALPHA, BRAVO), (outsider, BRAVO, ALPHA)):
        client, api = client_for(user), api_for(user)
        for url in ("/claims/", "/files/"):
            text = _text(client.get(url))
            assert _found(text, mine[:1]) or _found(text, mine[-1:]), (user, url)
            assert not _found(text, theirs), (user, url)
        claims = api.get("/api/claims/").json()
        # The team's own claim and its half of the mixed file: never the paid claim nobody denied.
        assert claims["count"] == 2, (user, claims)
        assert not _found(str(claims), theirs) and not _found(str(claims), ("PAIDPATIENT",))
        files = api.get("/api/remittance-files/").json()
        assert {f["original_name"] for f in files["results"]} == {f"{mine[-1]}.835", "mixed-remittance.835"}, user


def test_own_teams_claim_and_file_pages_show_the_patient(team_files, coder, client_for):
    client = client_for(coder)
    claim = _claim("ALPHA")
    assert "ALPHAPATIENT" in _text(client.get(reverse("denials:claim_detail", args=[claim.pk])))
    assert "ALPHAPCN" in _text(client.get(reverse("denials:file_detail", args=[team_files["A"].pk])))


def test_a_file_with_both_teams_claims_shows_each_only_their_own(team_files, coder, outsider, client_for, api_for):
    mixed = team_files["mixed"]
    for user, mine, theirs in ((coder, "MIXEDPCN8103A", "MIXEDPCN8103B"), (outsider, "MIXEDPCN8103B", "MIXEDPCN8103A")):
        text = _text(client_for(user).get(reverse("denials:file_detail", args=[mixed.pk])))
        assert mine in text and theirs not in text, user
        listed = api_for(user).get("/api/claims/", {"file": mixed.pk}).json()
        assert [c["patient_control_number"] for c in listed["results"]] == [mine], user


def test_file_reports_naming_claims_are_for_admins_and_the_uploader(team_files, coder, admin_user, api_for):
    mixed = team_files["mixed"]
    RemittanceFile.objects.filter(pk=mixed.pk).update(warnings=["claim MIXEDPCN8103B does not balance"])
    hidden = api_for(coder).get(f"/api/remittance-files/{mixed.pk}/").json()
    assert hidden["warnings"] == [] and hidden["reports_hidden"] is True
    shown = api_for(admin_user).get(f"/api/remittance-files/{mixed.pk}/").json()
    assert shown["warnings"] == ["claim MIXEDPCN8103B does not balance"]


def test_admins_see_every_claim_and_file_even_failed_and_fully_paid(
    team_files, admin_user, ingest, sample_bytes, api_for, client_for
):
    failed = ingest(sample_bytes("oopfactory__4010_Example1_reversals_plb.txt"), name="old-4010.txt")
    assert failed.status == "failed"
    files = api_for(admin_user).get("/api/remittance-files/").json()
    assert files["count"] == 5
    assert api_for(admin_user).get("/api/claims/").json()["count"] == ClaimPayment.objects.count() == 5
    paid = _claim("PAID")
    assert client_for(admin_user).get(reverse("denials:claim_detail", args=[paid.pk])).status_code == 200


def test_managers_see_their_team_only(team_files, manager, client_for):
    client = client_for(manager)
    assert client.get(reverse("denials:claim_detail", args=[_claim("ALPHA").pk])).status_code == 200
    assert client.get(reverse("denials:claim_detail", args=[_claim("BRAVO").pk])).status_code == 404


def test_claim_page_lists_only_the_denials_the_user_may_see(team_files, coder, client_for):
    claim = _claim("ALPHA")
    denials = list(Denial.objects.filter(claim=claim).order_by("id"))
    assert len(denials) == 2
    other_queue = Denial.objects.filter(claim=_claim("BRAVO")).first().queue
    Denial.objects.filter(pk=denials[1].pk).update(queue=other_queue)
    text = _text(client_for(coder).get(reverse("denials:claim_detail", args=[claim.pk])))
    assert reverse("denials:denial_detail", args=[denials[0].pk]) in text
    assert reverse("denials:denial_detail", args=[denials[1].pk]) not in text


def test_uploader_follows_their_own_upload_until_it_has_claims(
    coder, outsider, adjustment_rules, client_for, django_capture_on_commit_callbacks
):
    client = client_for(coder)
    upload = SimpleUploadedFile("mine.835", remittance_835(tag="UPLOAD", serial=8201))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("denials:upload"), {"files": [upload]}).status_code == 302
    file = RemittanceFile.objects.get(original_name="mine.835")
    assert client.get(reverse("denials:file_row", args=[file.pk])).status_code == 200
    assert client.get(reverse("denials:file_detail", args=[file.pk])).status_code == 200
    # Its claims sit in no queue of the uploader's team: the file, yes; the claims, no.
    assert client.get(reverse("denials:claim_detail", args=[ClaimPayment.objects.get().pk])).status_code == 404
    assert client_for(outsider).get(reverse("denials:file_detail", args=[file.pk])).status_code == 404


def test_claim_page_runs_a_fixed_number_of_queries_whatever_its_lines(
    coder, team, ingest, adjustment_rules, client_for, django_assert_max_num_queries
):
    from denials.models import WorkQueue

    queue = WorkQueue.objects.create(name="Queue", team=team)
    small = ingest(remittance_835(tag="SMALL", serial=8301, lines=2))
    large = ingest(remittance_835(tag="LARGE", serial=8302, lines=20))
    Denial.objects.update(queue=queue)
    client = client_for(coder)
    client.get(
        reverse("denials:claim_detail", args=[ClaimPayment.objects.get(remittance__file=small).pk])
    )  # warm caches
    counts = []
    for file in (small, large):
        claim = ClaimPayment.objects.get(remittance__file=file)
        # Session, user, groups; the claim, its lines, their adjustments and remarks, claim-level
        # adjustments and remarks, the visible denials; code words, history, which of it opens;
        # the access row; the session's save (3). The same for 2 lines as for 20.
        with django_assert_max_num_queries(20) as captured:
            response = client.get(reverse("denials:claim_detail", args=[claim.pk]))
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert Denial.objects.filter(claim__remittance__file=large).count() == 19
    assert counts[0] == counts[1], counts


# --- Claim numbers never travel in a URL -------------------------------------------------------
def test_claim_list_searches_by_claim_number_in_a_post_body_only(team_files, coder, client_for):
    client = client_for(coder)
    page = _text(client.get(reverse("denials:claim_list")))
    # The claim-number fields live in the POST form, not in the GET filter form.
    get_form = page.split('<form class="filters" method="get"', 1)[1].split("</form>", 1)[0]
    post_form = page.split('<form id="claim-search" class="filters" method="post"', 1)[1].split("</form>", 1)[0]
    assert 'name="pcn"' not in get_form and 'name="payer_claim"' not in get_form
    assert 'name="pcn"' in post_form and 'name="payer_claim"' in post_form
    # A claim number in a query string is not a filter (it should never have been put there).
    by_get = _text(client.get(reverse("denials:claim_list"), {"pcn": "MIXEDPCN8103A"}))
    assert "ALPHAPCN8101" in by_get
    found = client.post(reverse("denials:claim_list"), {"pcn": "ALPHAPCN8101"})
    assert found.status_code == 200
    assert "ALPHAPCN8101" in _text(found) and "MIXEDPCN8103A" not in _text(found)
    by_icn = _text(client.post(reverse("denials:claim_list"), {"payer_claim": "MIXEDICN8103A"}))
    assert "MIXEDPCN8103A" in by_icn and "ALPHAPCN8101" not in by_icn
    # Another team's claim number finds nothing.
    assert "No claim you can see has that number" in _text(
        client.post(reverse("denials:claim_list"), {"pcn": "BRAVOPCN8102"})
    )


def test_claim_search_through_htmx_answers_the_rows_partial(team_files, coder, client_for):
    response = client_for(coder).post(reverse("denials:claim_list"), {"pcn": "ALPHAPCN8101"}, HTTP_HX_REQUEST="true")
    text = _text(response)
    assert response.status_code == 200 and "<html" not in text and "ALPHAPCN8101" in text


def test_emptied_claim_search_goes_back_to_the_list_keeping_the_filters(team_files, coder, client_for):
    payer = _claim("ALPHA").payer_id
    response = client_for(coder).post(reverse("denials:claim_list"), {"pcn": "", "payer": payer})
    assert response.status_code == 302 and response["Location"] == f"/claims/?payer={payer}"


def test_claim_search_pages_post_the_search_again(team, coder, ingest, adjustment_rules, client_for):
    from denials.models import WorkQueue

    queue = WorkQueue.objects.create(name="Queue", team=team)
    # Fifty-one payments of the same claim number (one per remittance): a search with two pages.
    for serial in range(8400, 8451):
        content = remittance_835(tag="PAGE", serial=serial).replace(f"PAGEPCN{serial}".encode(), b"PAGEPCNSAME")
        ingest(content)
    Denial.objects.update(queue=queue)
    client = client_for(coder)
    first = _text(client.post(reverse("denials:claim_list"), {"pcn": "PAGEPCNSAME"}))
    assert "of 51" in first
    assert 'form="claim-search" name="page" value="2"' in first and "?page=2" not in first
    second = _text(client.post(reverse("denials:claim_list"), {"pcn": "PAGEPCNSAME", "page": 2}))
    assert "51\u201351 of 51" in second  # "51-51 of 51", with the page summary's en dash


def test_claim_search_api_takes_the_claim_number_in_the_body(team_files, coder, outsider, api_for):
    found = api_for(coder).post("/api/claims/search/", {"patient_control_number": "ALPHAPCN8101"}, format="json")
    assert found.status_code == 200
    assert [c["patient_control_number"] for c in found.json()["results"]] == ["ALPHAPCN8101"]
    hidden = api_for(outsider).post("/api/claims/search/", {"patient_control_number": "ALPHAPCN8101"}, format="json")
    assert hidden.status_code == 200 and hidden.json()["count"] == 0


# --- No role: nothing but the account ----------------------------------------------------------
def test_settings_wire_the_role_gate_for_pages_and_the_api():
    """The rule below is enforced by a middleware (pages of every app) and a DRF permission
    (token-authenticated API calls): both must be configured."""
    middleware = list(settings.MIDDLEWARE)
    assert "denials.middleware.RoleRequiredMiddleware" in middleware
    assert middleware.index("denials.middleware.RoleRequiredMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )
    assert "denials.access.HasRole" in settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]


NO_ROLE_PAGES = [
    "/",
    "/worklist/",
    "/files/",
    "/files/upload/",
    "/claims/",
    "/ncci/search/?code=17000",
    "/ncci/scrub/",
    "/ncci/import/",
]
NO_ROLE_APIS = ["/api/", "/api/claims/", "/api/remittance-files/", "/api/denials/", "/api/ncci/ptp/", "/api/ncci/mue/"]


def test_no_role_pages_and_apis_answer_403(team_files, norole, client_for, api_for):
    client, api = client_for(norole), api_for(norole)
    for url in NO_ROLE_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert not _found(_text(response), ALPHA + BRAVO), url
    for url in NO_ROLE_APIS:
        assert api.get(url).status_code == 403, url
    assert api.post("/api/scrub/", {"lines": [{"code": "17000"}]}, format="json").status_code == 403


def test_no_role_object_urls_answer_404(team_files, norole, client_for):
    client = client_for(norole)
    urls = _object_urls(team_files, "ALPHA", "A")
    denial = Denial.objects.filter(claim=_claim("ALPHA")).first()
    urls.append(reverse("denials:denial_detail", args=[denial.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert not _found(_text(response), ALPHA), url


def test_no_role_cannot_upload_or_retry(norole, ingest, sample_bytes, client_for, api_for):
    failed = ingest(sample_bytes("oopfactory__4010_Example1_reversals_plb.txt"))
    RemittanceFile.objects.filter(pk=failed.pk).update(uploaded_by=norole)
    attempts = RemittanceFile.objects.get(pk=failed.pk).attempts
    client = client_for(norole)
    upload = SimpleUploadedFile("x.835", remittance_835(tag="NOROLE", serial=8501))
    assert client.post(reverse("denials:upload"), {"files": [upload]}).status_code == 403
    upload = SimpleUploadedFile("y.835", remittance_835(tag="NOROLE", serial=8502))
    assert api_for(norole).post("/api/remittance-files/", {"file": upload}, format="multipart").status_code == 403
    assert client.post(reverse("denials:file_retry", args=[failed.pk])).status_code == 404
    assert RemittanceFile.objects.count() == 1
    assert RemittanceFile.objects.get(pk=failed.pk).attempts == attempts


def test_no_role_keeps_their_account(norole, client_for):
    client = client_for(norole)
    assert client.get(reverse("password_change")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_no_role_token_caller_is_refused_too(team_files, norole):
    from rest_framework.authtoken.models import Token

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=norole).key}")
    assert api.get("/api/claims/").status_code == 403
    assert api.get("/api/ncci/ptp/").status_code == 403
    assert api.get(f"/api/claims/{_claim('ALPHA').pk}/").status_code == 404


def test_any_role_may_use_the_ncci_reference_pages_and_api(coder, outsider, client_for, api_for, code_lists):
    for user in (coder, outsider):
        assert client_for(user).get("/ncci/search/", {"code": "17000"}).status_code == 200
        assert client_for(user).get("/ncci/scrub/").status_code == 200
        assert api_for(user).get("/api/ncci/ptp/").status_code == 200
        assert client_for(user).get("/ncci/import/").status_code == 403


def test_roles_decide_visibility_not_team_membership(team_files, norole):
    """A no-role account on a team sees none of its queues' work in any selector."""
    from denials import selectors

    assert norole.teams.exists()
    assert not selectors.denials_visible_to(user=norole).exists()
    assert not selectors.claims_visible_to(user=norole).exists()
    assert not selectors.remittance_files_visible_to(user=norole).exists()


def test_claim_history_links_only_the_payments_the_user_may_open(team_files, coder, admin_user, ingest, client_for):
    later = remittance_835(tag="ALPHA", serial=8101, lines=1).replace(b"ACCESS8101", b"LATER8101")
    ingest(later, name="later.835")
    payments = ClaimPayment.objects.filter(patient_control_number="ALPHAPCN8101").order_by("id")
    assert payments.count() == 2
    first, paid_later = payments
    assert not paid_later.denials.exists()
    url = reverse("denials:claim_detail", args=[first.pk])
    coder_html = _text(client_for(coder).get(url))
    assert "History across remittances" in coder_html
    assert reverse("denials:claim_detail", args=[paid_later.pk]) not in coder_html
    assert reverse("denials:claim_detail", args=[paid_later.pk]) in _text(client_for(admin_user).get(url))


def test_claim_list_counts_at_most_a_cap_then_says_more_than(team_files, coder, client_for, monkeypatch):
    """Counting every claim a team may see reads all its denials: the list stops counting at a cap."""
    from denials.views import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 1)
    text = _text(client_for(coder).get(reverse("denials:claim_list")))
    assert "of more than 1</span>" in text and "Page 1 of 1+" in text
    monkeypatch.setattr(CappedPaginator, "CAP", 10)
    text = _text(client_for(coder).get(reverse("denials:claim_list")))
    assert "of 2</span>" in text and "more than" not in text


def test_a_claim_number_too_long_is_refused_beside_its_field(team_files, coder, client_for):
    response = client_for(coder).post(reverse("denials:claim_list"), {"pcn": "X" * 51})
    assert response.status_code == 400
    assert "Ensure this value has at most 50 characters" in _text(response)
