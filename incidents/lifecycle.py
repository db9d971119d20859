"""The incident lifecycle: which status may follow which, and which timestamp each one stamps.

investigating → identified → monitoring → resolved → closed, with shortcuts forward
(a quick fix can go straight to resolved) and reopening from monitoring or resolved
back to investigating when the problem comes back. Closed is final.
"""

from incidents.choices import IncidentStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentStatus.INVESTIGATING: frozenset(
        {IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING, IncidentStatus.RESOLVED}
    ),
    IncidentStatus.IDENTIFIED: frozenset(
        {IncidentStatus.INVESTIGATING, IncidentStatus.MONITORING, IncidentStatus.RESOLVED}
    ),
    IncidentStatus.MONITORING: frozenset({IncidentStatus.INVESTIGATING, IncidentStatus.RESOLVED}),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.INVESTIGATING, IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}

#: The timestamp field a status stamps when the incident enters it. Entering a later status
#: also stamps the earlier ones still empty (resolving straight away means it was mitigated too).
STATUS_TIMESTAMPS: dict[str, str] = {
    IncidentStatus.MONITORING: "mitigated_at",
    IncidentStatus.RESOLVED: "resolved_at",
    IncidentStatus.CLOSED: "closed_at",
}

#: Timestamps cleared when an incident is reopened, since the user impact is back.
REOPEN_CLEARS = ("mitigated_at", "resolved_at")

#: The incident timestamps in the order they must happen.
TIMESTAMP_ORDER = (
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


def can_transition(current: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


def is_backward(current: str, new: str) -> bool:
    """Does the move go back in the lifecycle (reopening, or back to investigating)?"""
    order = list(IncidentStatus.values)
    return order.index(new) < order.index(current)


def forward_statuses(current: str) -> list[str]:
    """The statuses the incident may move on to, in lifecycle order."""
    return [
        status
        for status in IncidentStatus.values
        if status in ALLOWED_TRANSITIONS[current] and not is_backward(current, status)
    ]


def backward_statuses(current: str) -> list[str]:
    """The statuses the incident may go back to (each needs a reason)."""
    return [
        status
        for status in IncidentStatus.values
        if status in ALLOWED_TRANSITIONS[current] and is_backward(current, status)
    ]


def timestamps_to_stamp(new: str) -> list[str]:
    """The timestamp fields entering ``new`` fills (when still empty), earliest first."""
    order = list(IncidentStatus.values)
    reached = order[: order.index(new) + 1]
    return [STATUS_TIMESTAMPS[status] for status in reached if status in STATUS_TIMESTAMPS]
