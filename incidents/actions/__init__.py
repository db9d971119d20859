"""Writes to incidents: keyword-only, validated, atomic. One module per concern:
incidents.actions.incidents (declaring, the lifecycle, the timeline, status updates),
incidents.actions.postmortems (post-mortems and action items) and incidents.actions.metrics
(the metrics snapshots); callers use them through this package.

Permissions are the callers' business (incidents.permissions); ``by`` is who acts, None
when the portal acts itself (alert intake).
"""

from incidents.actions.incidents import (
    METRIC_FIELDS,
    UPDATABLE_FIELDS,
    incident_add_note,
    incident_assign_role,
    incident_change_severity,
    incident_change_status,
    incident_declare,
    incident_subscribe,
    incident_update,
    owning_team_id,
    status_update_queue,
    timeline_entry_add,
    timeline_entry_pin,
)
from incidents.actions.metrics import incident_metrics_snapshots_recompute
from incidents.actions.postmortems import (
    ACTION_ITEM_WRITABLE_FIELDS,
    POSTMORTEM_WRITABLE_FIELDS,
    action_item_create,
    action_item_set_status,
    action_item_update,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_start,
    postmortem_submit_for_review,
    postmortem_update,
)

__all__ = [
    "ACTION_ITEM_WRITABLE_FIELDS",
    "METRIC_FIELDS",
    "POSTMORTEM_WRITABLE_FIELDS",
    "UPDATABLE_FIELDS",
    "action_item_create",
    "action_item_set_status",
    "action_item_update",
    "incident_add_note",
    "incident_assign_role",
    "incident_change_severity",
    "incident_change_status",
    "incident_declare",
    "incident_metrics_snapshots_recompute",
    "incident_subscribe",
    "incident_update",
    "owning_team_id",
    "postmortem_publish",
    "postmortem_return_to_draft",
    "postmortem_start",
    "postmortem_submit_for_review",
    "postmortem_update",
    "status_update_queue",
    "timeline_entry_add",
    "timeline_entry_pin",
]
