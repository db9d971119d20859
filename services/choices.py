from django.db import models


class Tier(models.IntegerChoices):
    """How much the business depends on a service; tier 1 is the most critical."""

    TIER_1 = 1, "Tier 1 (critical)"
    TIER_2 = 2, "Tier 2 (important)"
    TIER_3 = 3, "Tier 3 (best effort)"


class Lifecycle(models.TextChoices):
    EXPERIMENTAL = "experimental", "Experimental"
    PRODUCTION = "production", "Production"
    DEPRECATED = "deprecated", "Deprecated"


class MembershipRole(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    VIEWER = "viewer", "Viewer"
