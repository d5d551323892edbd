from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tenancy.models import Contract, Membership, Organization, Package, Region, User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(TEST_PASSWORD)


class StaffFactory(UserFactory):
    staff_role = User.StaffRole.SUPPORT_ENGINEER


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Faker("company")
    slug = factory.Sequence(lambda n: f"org-{n}")
    reference_prefix = factory.LazyAttribute(lambda o: o.slug.upper())
    region = Region.US
    timezone = "UTC"


class ContractFactory(DjangoModelFactory[Contract]):
    class Meta:
        model = Contract

    organization = factory.SubFactory(OrganizationFactory)
    package = Package.STANDARD
    effective_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER
