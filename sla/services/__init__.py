"""Every write to SLA policies and clocks goes through these services."""

from sla.services.clocks import (
    sla_clocks_plan,
    sla_clocks_recompute,
    sla_clocks_start,
    sla_first_response_stop,
    sla_resolution_pause,
    sla_resolution_rearm,
    sla_resolution_resume,
    sla_resolution_stop,
)
from sla.services.maintenance_pauses import MaintenancePauseResult, sla_maintenance_pauses_apply
from sla.services.policies import policy_in_force, policy_version_create
from sla.services.rebaseline import DeadlineMove, sla_rebaseline_apply, sla_rebaseline_preview
from sla.services.sweep import SweepResult, sla_sweep, sweeper_lag_seconds

__all__ = [
    "DeadlineMove",
    "MaintenancePauseResult",
    "SweepResult",
    "policy_in_force",
    "policy_version_create",
    "sla_clocks_plan",
    "sla_clocks_recompute",
    "sla_clocks_start",
    "sla_first_response_stop",
    "sla_maintenance_pauses_apply",
    "sla_rebaseline_apply",
    "sla_rebaseline_preview",
    "sla_resolution_pause",
    "sla_resolution_rearm",
    "sla_resolution_resume",
    "sla_resolution_stop",
    "sla_sweep",
    "sweeper_lag_seconds",
]
