from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from denials.models import Payer, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer

    payer_key = factory.Sequence(lambda n: f"2U:P{n:04d}")
    name = factory.Sequence(lambda n: f"Payer {n}")
    identifier = factory.Sequence(lambda n: f"P{n:04d}")


def remittance_835(*, tag: str, serial: int, pcns: tuple[str, ...] = ("",), lines: int = 3) -> bytes:
    """One 5010 835 whose claims carry patient strings found nowhere else (``{tag}PATIENT``,
    ``{tag}MEMBER``, ``{tag}PCN``, ``{tag}ICN``), so a page can be searched for them.

    Each claim (one per entry of ``pcns``, a suffix of the patient control number) has a
    paid 17000 line and ``lines - 1`` denied lines alternating CO-97 and CO-16.
    """
    denied = [("11102", "CO*97*100", "M15"), ("99213", "CO*16*100", "M51")]
    claims: list[str] = []
    paid_total = 0
    for suffix in pcns:
        segs = [
            f"CLP*{tag}PCN{serial}{suffix}*1*{100 * lines}.00*100.00**12*{tag}ICN{serial}{suffix}",
            f"NM1*QC*1*{tag}PATIENT*JANE****MI*{tag}MEMBER{serial}{suffix}",
            "DTM*232*20260914",
            "SVC*HC:17000*100.00*100.00**1",
            "DTM*472*20260914",
        ]
        for i in range(lines - 1):
            code, cas, rarc = denied[i % 2]
            segs += [f"SVC*HC:{code}*100.00*0**1", "DTM*472*20260914", f"CAS*{cas}", f"LQ*HE*{rarc}"]
        claims += segs
        paid_total += 100
    body = [
        "ST*835*0001",
        f"BPR*I*{paid_total}.00*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*20261001",
        f"TRN*1*ACCESS{serial}*1234567890",
        "N1*PR*LAKESHORE HEALTH PLAN",
        "REF*2U*LAKE1",
        "N1*PE*RIVERSIDE CLINIC*XX*1234567893",
        "LX*1",
        *claims,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    isa = (
        f"ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *261001*1200*^*00501*{serial:09d}*0*P*:"
    )
    envelope = [
        isa,
        f"GS*HP*PAYER*CLINIC*20261001*1200*{serial}*X*005010X221A1",
        *body,
        f"GE*1*{serial}",
        f"IEA*1*{serial:09d}",
    ]
    return ("~".join(envelope) + "~").encode()
