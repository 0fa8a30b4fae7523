"""The worklist with a denial open (``/worklist/?...&denial=N``): what Back, Forward, reload and a
shared link land on (issue 12). The browser side: tests/browser/test_flow_browser.py."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from denials.models import AccessEvent
from tests import test_worklist_views as views_tests
from tests.test_worklist_views import HX, _bundled, _html

pytestmark = pytest.mark.django_db

# The denial-page tests' fixtures: three triaged denials of the team, and a signed-in client.
worked = views_tests.worked
client_for = views_tests.client_for


def _views_of(denial) -> int:
    return AccessEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(denial), target_id=str(denial.pk), action=AccessEvent.Action.VIEW
    ).count()


def test_the_worklist_opens_the_denial_named_in_its_url_beside_the_queue(worked, coder, client_for):
    denial = _bundled(worked)
    url = reverse("denials:worklist") + f"?queue=all&category={denial.category}&denial={denial.pk}"
    response = client_for(coder).get(url)
    html = _html(response)
    assert response.status_code == 200
    assert 'id="worklist-list"' in html and f'data-row="{denial.pk}"' in html  # the queue is there
    assert f'<article class="denial" data-denial-id="{denial.pk}"' in html  # and the pane is open on it
    assert "No denial open" not in html
    assert f'<option value="{denial.category}" selected>' in html  # the filters kept
    assert _views_of(denial) == 1  # a look at the patient's claim, recorded like the denial page


def test_a_denial_of_another_team_or_no_number_leaves_the_pane_empty_and_says_so(worked, outsider, coder, client_for):
    denial = _bundled(worked)
    for user, wanted in ((outsider, str(denial.pk)), (coder, "abc"), (coder, "99999999999999")):
        response = client_for(user).get(reverse("denials:worklist") + f"?denial={wanted}")
        html = _html(response)
        assert response.status_code == 200
        assert "not one you can open" in html and "data-denial-id" not in html
    assert _views_of(denial) == 0


def test_partials_ignore_the_open_denial(worked, coder, client_for):
    """Filters and refreshes carry ?denial=N in the URL; the rows they fetch never render the pane."""
    denial = _bundled(worked)
    url = reverse("denials:worklist") + f"?queue=all&denial={denial.pk}"
    html = _html(client_for(coder).get(url, **HX, HTTP_HX_TARGET="worklist-rows"))
    assert f'data-row="{denial.pk}"' in html and "data-denial-id" not in html
    assert _views_of(denial) == 0
