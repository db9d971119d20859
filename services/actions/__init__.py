"""Writes to the services app: keyword-only, validated, atomic. One module per concern:
services.actions.catalog (services, teams, memberships, tags), services.actions.slos (SLO
definitions, maintenance windows, budget policies) and services.actions.sli (SLI data, its
sync from Prometheus and pushes, and the status snapshots); callers use them through this
package. Tunables (batch sizes and the like) stay in their module, where tests and
benchmarks set them."""

from services.actions.catalog import (
    membership_set,
    service_create,
    service_delete,
    service_update,
    tags_for_names,
    team_create,
    team_delete,
    team_update,
)
from services.actions.sli import (
    SyncOutcome,
    SyncResult,
    sli_query,
    slo_buckets_push,
    slo_buckets_upsert,
    slo_rollups_refresh,
    slo_status_recompute,
    slo_statuses_recompute,
    slo_sync,
)
from services.actions.slos import (
    budget_policy_create,
    budget_policy_delete,
    budget_policy_update,
    maintenance_window_create,
    maintenance_window_delete,
    slo_create,
    slo_delete,
    slo_update,
)

__all__ = [
    "SyncOutcome",
    "SyncResult",
    "budget_policy_create",
    "budget_policy_delete",
    "budget_policy_update",
    "maintenance_window_create",
    "maintenance_window_delete",
    "membership_set",
    "service_create",
    "service_delete",
    "service_update",
    "sli_query",
    "slo_buckets_push",
    "slo_buckets_upsert",
    "slo_create",
    "slo_delete",
    "slo_rollups_refresh",
    "slo_status_recompute",
    "slo_statuses_recompute",
    "slo_sync",
    "slo_update",
    "tags_for_names",
    "team_create",
    "team_delete",
    "team_update",
]
