"""REST API: the catalog's resources in catalog.py, SLOs and budget policies in slos.py."""

from services.api.catalog import (
    MembershipViewSet,
    ServiceViewSet,
    TagViewSet,
    TeamViewSet,
    model_errors_as_bad_request,
)
from services.api.slos import BudgetPolicyViewSet, SLOViewSet

__all__ = [
    "BudgetPolicyViewSet",
    "MembershipViewSet",
    "SLOViewSet",
    "ServiceViewSet",
    "TagViewSet",
    "TeamViewSet",
    "model_errors_as_bad_request",
]
