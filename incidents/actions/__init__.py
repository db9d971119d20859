"""Writes to incidents: keyword-only, validated, atomic. One module per concern:
incidents.actions.incidents (declaring, the lifecycle, the timeline),
incidents.actions.status_updates (recording and sending status updates),
incidents.actions.postmortems (post-mortems and action items) and incidents.actions.metrics
(the metrics snapshots and their coalesced recomputes); callers import each name from the
module that defines it.

Permissions are the callers' business (incidents.permissions); ``by`` is who acts, None
when the portal acts itself (alert intake).
"""
