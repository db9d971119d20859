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


class IncidentMetricsDirtyMark(models.Model):
    """A change to what the incident metrics read, not yet in the snapshots: the
    organisation's, and its team's (``team``, empty when the incident has none).

    Marks coalesce recomputes (incidents.actions.metrics): every change adds one, and only a
    change that finds no mark rings the recompute task, with a short countdown, so a storm
    of writes leads to one recompute per interval. The recompute takes (deletes) the marks
    before it reads the incidents, so a change committed later keeps its mark for the next
    one; the sweep rings for marks whose ring was lost while the broker was down. Marks are
    only ever added and taken, never updated: writers do not wait for one another.
    """

    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The incident's team; empty when it has none.",
    )
    marked_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "incident metrics change to recompute"

    def __str__(self):
        return f"{self.team_id or 'organisation'} at {self.marked_at:%Y-%m-%d %H:%M:%S}"
