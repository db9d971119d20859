from services.models.catalog import Membership, Service, Tag, Team
from services.models.slos import (
    SLO,
    BudgetPolicy,
    BudgetPolicyTier,
    MaintenanceWindow,
    SLIBucket,
    SLIRollup,
    SLOStatus,
)

__all__ = [
    "SLO",
    "BudgetPolicy",
    "BudgetPolicyTier",
    "MaintenanceWindow",
    "Membership",
    "SLIBucket",
    "SLIRollup",
    "SLOStatus",
    "Service",
    "Tag",
    "Team",
]
