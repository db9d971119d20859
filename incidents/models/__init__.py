from incidents.models.incidents import (
    OPEN_FIRST,
    Incident,
    IncidentAlert,
    IncidentReferenceCounter,
    SeverityLevel,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.metrics import IncidentMetricsSnapshot
from incidents.models.postmortems import ActionItem, PostMortem

__all__ = [
    "OPEN_FIRST",
    "ActionItem",
    "Incident",
    "IncidentAlert",
    "IncidentMetricsSnapshot",
    "IncidentReferenceCounter",
    "PostMortem",
    "SeverityLevel",
    "StatusUpdate",
    "TimelineEntry",
]
