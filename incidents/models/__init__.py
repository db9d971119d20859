from incidents.models.incidents import (
    Incident,
    IncidentAlert,
    IncidentReferenceCounter,
    SeverityLevel,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.postmortems import ActionItem, PostMortem

__all__ = [
    "ActionItem",
    "Incident",
    "IncidentAlert",
    "IncidentReferenceCounter",
    "PostMortem",
    "SeverityLevel",
    "StatusUpdate",
    "TimelineEntry",
]
