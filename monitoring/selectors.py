from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from core.tokens import token_hash
from monitoring.models import AlertGroup, Delivery, InboundEvent, MonitoringSource
from tenancy.models import Organization, Package
from tenancy.selectors import contract_active


def is_premium(*, organization: Organization, at: datetime) -> bool:
    contract = contract_active(organization=organization, at=at)
    return contract is not None and contract.package == Package.PREMIUM


def source_list(*, organization: Organization) -> QuerySet[MonitoringSource]:
    return MonitoringSource.objects.for_organization(organization)


def source_get(*, organization: Organization, public_id: UUID) -> MonitoringSource:
    return source_list(organization=organization).get(public_id=public_id)


def source_by_token(*, kind: str, token: str) -> MonitoringSource:
    """The source an intake URL names; a token of another kind is as unknown as a made-up one."""
    return MonitoringSource.objects.select_related("organization").get(kind=kind, token_hash=token_hash(token))


def delivery_list(*, organization: Organization, source: MonitoringSource) -> QuerySet[Delivery]:
    return Delivery.objects.for_organization(organization).filter(source=source).select_related("event")


def alert_group_list(*, organization: Organization, source: MonitoringSource) -> QuerySet[AlertGroup]:
    return AlertGroup.objects.for_organization(organization).filter(source=source).select_related("ticket")


def inbound_event_get(*, organization: Organization, public_id: UUID) -> InboundEvent:
    return InboundEvent.objects.for_organization(organization).select_related("source").get(public_id=public_id)
