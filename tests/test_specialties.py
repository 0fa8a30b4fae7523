"""Procedure code ranges -> specialty: the pure rule, the shipped rows and the admin's edits."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ncci import specialties
from ncci.specialties import SHIPPED_SPECIALTY_RANGES, UNMAPPED, CodeRange, range_problem, specialty_for


@pytest.mark.parametrize(
    ("code", "specialty"),
    [
        ("17000", "Dermatology"),  # destruction of a lesion: the narrower 17000-17999 and 10030-19499 agree
        ("11042", "Dermatology"),
        ("20610", "Orthopedics"),
        ("20552", "Pain management"),  # trigger points: inside orthopedics' range, narrower
        ("64483", "Pain management"),  # inside "Surgery (other)", narrower
        ("99213", "E/M"),  # inside "Medicine (other)", narrower
        ("93000", "Cardiology"),
        ("33208", "Cardiology"),
        ("71046", "Radiology"),
        ("45378", "Gastroenterology"),
        ("92014", "Ophthalmology"),
        ("97110", "Physical medicine and rehabilitation"),
        ("80053", "Pathology and laboratory"),
        ("00840", "Anesthesia"),
        ("0591T", UNMAPPED),  # Category III: never in 00100-01999 by string order
        ("0001F", UNMAPPED),
        ("G0283", UNMAPPED),
        ("", UNMAPPED),
    ],
)
def test_a_code_belongs_to_its_narrowest_shipped_range(code, specialty):
    assert specialty_for(code, SHIPPED_SPECIALTY_RANGES) == specialty


def test_equal_width_ranges_break_ties_by_position_and_codes_are_read_upper_case():
    ranges = [CodeRange("B", "G0000", "G9999", position=2), CodeRange("A", "G0000", "G9999", position=1)]
    assert specialty_for("g0283", ranges) == "A"
    assert specialty_for("J0283", ranges) == UNMAPPED


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [
        ("", "11983", "needs a first and a last"),
        ("1100", "11983", "differ in length"),
        ("0001F", "00999", "different forms"),
        ("11983", "11000", "starts after it ends"),
    ],
)
def test_a_range_that_cannot_work_is_named_with_why(first, last, words):
    assert words in range_problem(first=first, last=last)


def test_the_shipped_ranges_are_all_usable():
    assert all(range_problem(first=r.first, last=r.last) == "" for r in SHIPPED_SPECIALTY_RANGES)


@pytest.mark.django_db
def test_migrate_seeds_the_ranges_once_and_an_admin_edit_survives_a_rerun():
    from denials.services.defaults import defaults_ensure
    from ncci.models import SpecialtyRange
    from ncci.selectors import specialty_ranges

    assert SpecialtyRange.objects.count() == len(SHIPPED_SPECIALTY_RANGES)  # applied by migrate
    row = SpecialtyRange.objects.get(first="17000", last="17999")
    row.specialty = "Dermatologic surgery"
    row.save()
    SpecialtyRange.objects.filter(first="70010").delete()
    defaults_ensure()
    assert SpecialtyRange.objects.get(first="17000").specialty == "Dermatologic surgery"
    assert not SpecialtyRange.objects.filter(first="70010").exists()  # a deleted default stays deleted
    assert specialties.specialty_for("17110", specialty_ranges()) == "Dermatologic surgery"
    assert specialties.specialty_for("71046", specialty_ranges()) == UNMAPPED


@pytest.mark.django_db
def test_the_model_refuses_a_range_that_cannot_work():
    from ncci.models import SpecialtyRange

    with pytest.raises(ValidationError) as exc:
        SpecialtyRange(specialty="X", first="0001F", last="00999").full_clean()
    assert "different forms" in str(exc.value)
