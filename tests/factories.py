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
