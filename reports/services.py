"""Staff decisions about breaches: exclude one from the compliance figures (with a category and a reason), or count
it again. The breach record is never changed or deleted; every decision is kept as a BreachExclusionChange."""

from datetime import datetime

from django.db import transaction

from core.exceptions import ApplicationError, PermissionDeniedError
from reports.models import BreachExclusion, BreachExclusionChange, ExclusionCategory
from sla.models import Record
from tenancy.models import User

REASON_MAX_LENGTH = 2000


def _reason_errors(reason: str) -> list[dict[str, str]]:
    if not reason.strip():
        return [{"field": "reason", "code": "blank", "detail": "Say why; the customer reads it in their report."}]
    if len(reason.strip()) > REASON_MAX_LENGTH:
        return [{"field": "reason", "code": "max_length", "detail": f"At most {REASON_MAX_LENGTH} characters."}]
    return []


def _require_staff_on_breach(record: Record, actor: User) -> None:
    if not actor.is_walt_staff:
        raise PermissionDeniedError("Only WALT staff decide which breaches are excluded.")
    if record.kind != Record.Kind.BREACH:
        raise ApplicationError("Only a breach can be excluded from the compliance figures.")


def _locked(record: Record) -> BreachExclusion | None:
    # The breach's row lock makes concurrent decisions about one breach take turns.
    Record.objects.select_for_update().only("pk").get(pk=record.pk)
    return BreachExclusion.objects.for_organization(record.organization).filter(record=record).first()


def _change(exclusion: BreachExclusion, *, action: str) -> None:
    BreachExclusionChange.objects.create(
        organization_id=exclusion.organization_id,
        exclusion=exclusion,
        action=action,
        category=exclusion.category,
        reason=exclusion.reason,
        changed_by=exclusion.decided_by,
        changed_at=exclusion.decided_at,
    )


@transaction.atomic
def breach_exclude(*, record: Record, actor: User, category: str, reason: str, now: datetime) -> BreachExclusion:
    """Take the breach out of the compliance figures "after exclusions"; excluding it again changes the category or
    reason, and is recorded like the first time."""
    _require_staff_on_breach(record, actor)
    errors = _reason_errors(reason)
    if category not in ExclusionCategory.values:
        choices = ", ".join(ExclusionCategory.values)
        code, detail = ("required", f"Choose one of {choices}.") if not category else ("invalid_choice", choices)
        errors.insert(0, {"field": "category", "code": code, "detail": detail})
    if errors:
        raise ApplicationError("The breach was not excluded.", errors=errors)
    exclusion = _locked(record) or BreachExclusion(
        organization_id=record.organization_id, record=record, clock_id=record.clock_id
    )
    exclusion.excluded, exclusion.category, exclusion.reason = True, category, reason.strip()
    exclusion.decided_by, exclusion.decided_at = actor, now
    exclusion.save()
    _change(exclusion, action=BreachExclusionChange.Action.EXCLUDED)
    return exclusion


@transaction.atomic
def breach_reinstate(*, record: Record, actor: User, reason: str, now: datetime) -> BreachExclusion:
    """Count an excluded breach again."""
    _require_staff_on_breach(record, actor)
    errors = _reason_errors(reason)
    if errors:
        raise ApplicationError("The breach was not counted again.", errors=errors)
    exclusion = _locked(record)
    if exclusion is None or not exclusion.excluded:
        raise ApplicationError(
            "This breach is not excluded, so it already counts.",
            errors=[{"field": "excluded", "code": "not_excluded", "detail": "The breach already counts."}],
        )
    exclusion.excluded, exclusion.category, exclusion.reason = False, "", reason.strip()
    exclusion.decided_by, exclusion.decided_at = actor, now
    exclusion.save()
    _change(exclusion, action=BreachExclusionChange.Action.REINSTATED)
    return exclusion
