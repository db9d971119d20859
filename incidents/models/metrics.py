"""The incident metrics the worker precomputes for the metrics page."""

from django.db import models

from incidents.metrics import PERIOD_MONTHS, IncidentMetrics, metrics_from_json
from services.models.catalog import Team


class IncidentMetricsSnapshot(models.Model):
    """The incident metrics of one scope and period as the worker last computed them
    (incidents.actions.incident_metrics_snapshots_recompute): a team's incidents, or the
    whole organisation's when ``team`` is empty, over the last ``months`` months.

    The metrics page reads these instead of a year of incidents. ``figures`` holds
    incidents.metrics.IncidentMetrics as ``metrics_to_json`` writes it; the names are those
    of the services and teams the figures mention, by id, for the page's labels.
    """

    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="incident_metrics_snapshots",
        help_text="Empty: the whole organisation.",
    )
    months = models.PositiveSmallIntegerField(
        choices=[(months, f"{months} months") for months in PERIOD_MONTHS]
    )
    computed_at = models.DateTimeField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    figures = models.JSONField()
    service_names = models.JSONField(default=dict)
    team_names = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "months"], name="unique_incident_metrics_team_period"
            ),
            # The constraint above lets empty teams repeat (NULLs are distinct in SQL, and
            # SQLite cannot say otherwise): the organisation's snapshots need their own.
            models.UniqueConstraint(
                fields=["months"],
                condition=models.Q(team=None),
                name="unique_incident_metrics_organisation_period",
            ),
        ]

    def __str__(self):
        return f"{self.team or 'Organisation'}, {self.months} months"

    def metrics(self) -> IncidentMetrics:
        return metrics_from_json(self.figures)
