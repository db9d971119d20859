"""The sections of the monthly report, registered in ``SECTIONS`` at the bottom of this
module: the one place to plug a section in.

A section's ``build(scope)`` (a portal.reports.scope.ReportScope) returns its figures as JSON
data (stored with the report, rendered by ``templates/reports/sections/<key>.html`` and
``.txt``, or the generic templates), or None when its records do not exist for the scope and
month: the report then says "No data this month" there, and never fails for it. Figures are
``figure()`` dicts, each with the previous month's value beside it. Records of other apps plug
in through the adapters of portal.reports.adapters (``scoped_figures``, ``team_rows``) with
no build function of their own:

    Section("dora", "Deployments and DORA's keys", scoped_figures("toil.selectors.dora_month",
            [Field("deployments", "Deployments"), Field("change_failure_rate", ...)])),
"""

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.http import urlencode

from incidents.choices import POSTMORTEM_REQUIRED_SEVERITIES, Severity
from incidents.metrics import incident_metrics
from incidents.models.incidents import Incident
from incidents.selectors import incidents as incident_selectors
from incidents.selectors import metrics as incident_metric_selectors
from incidents.selectors import postmortems as postmortem_selectors
from portal.reports.adapters import Field, scoped_figures, team_rows  # noqa: F401 - the plug-in lines use them
from portal.reports.months import Month
from portal.reports.scope import ReportScope, figure
from portal.reports.templatetags.report_format import duration_text
from portal.timezones import portal_zone
from services.selectors import readiness as readiness_selectors
from services.selectors import scorecards as scorecard_selectors
from services.selectors import slos as slo_selectors
from toil import dora
from toil.selectors import deployments as deployment_selectors

#: Rows of an SLO table in an email; the rest is a link to the scorecard.
MAX_SLO_ROWS = 25
#: The SLOs named as the month's worst.
WORST_SLOS = 5
#: Months of history in the incident charts, the report's month included.
TREND_MONTHS = 12


def _slos(scope: ReportScope) -> list[dict]:
    """The scope's SLOs with their snapshots' figures, read once per report."""
    if "slos" not in scope.memo:
        scope.memo["slos"] = slo_selectors.slo_report_rows(scope.team)
    return scope.memo["slos"]


def _slo_url(slo: dict) -> str:
    """The SLO page's path (SLO.get_absolute_url() without a reverse() per SLO: the
    organisation's report links thousands)."""
    return _SLO_URL.format(service=slo["service_slug"], slo=slo["slug"])


_SLO_URL = "/services/{service}/slos/{slo}/"


def month_attainment(monthly: list[dict], time_zone: str, month: Month) -> dict | None:
    """The entry of an SLO snapshot's monthly history (services SLOStatus.monthly) for the
    report's month, as the SLO counts months (in its own time zone, as its page shows them)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    for entry in monthly or []:
        start = dt.datetime.fromisoformat(entry["start"]).astimezone(zone)
        if (start.year, start.month) == (month.first_day.year, month.first_day.month):
            return entry
    return None


def _consumed(attainment, objective_percent) -> float | None:
    """The share of the month's error budget spent: (1 - attainment) / (1 - objective)."""
    if attainment is None:
        return None
    return (1 - attainment) / (1 - float(objective_percent) / 100)


def slo_performance(scope: ReportScope) -> dict | None:
    rows = []
    for slo in _slos(scope):
        monthly = slo["monthly"] or []
        this = month_attainment(monthly, slo["time_zone"], scope.month) or {}
        before = month_attainment(monthly, slo["time_zone"], scope.month.previous()) or {}
        rows.append(
            {
                "name": slo["name"],
                "service": slo["service_name"],
                "url": _slo_url(slo),
                "objective": float(slo["objective"]),
                "attainment": this.get("attainment"),
                "met": this.get("met"),
                "consumed": _consumed(this.get("attainment"), slo["objective"]),
                "previous_attainment": before.get("attainment"),
                "previous_met": before.get("met"),
                "previous_consumed": _consumed(before.get("attainment"), slo["objective"]),
            }
        )
    measured = [row for row in rows if row["met"] is not None]
    if not measured:
        return None
    met = sum(1 for row in measured if row["met"])
    previous = [row for row in rows if row["previous_met"] is not None]
    previous_met = sum(1 for row in previous if row["previous_met"]) if previous else None
    missed = [row for row in measured if not row["met"]]
    worst = sorted(measured, key=lambda row: -row["consumed"])[:WORST_SLOS]
    listed = rows if scope.team is not None else missed
    return {
        "measured": len(measured),
        "total": len(rows),
        "met": met,
        "missed_names": [f"{row['service']}: {row['name']}" for row in missed],
        "figures": [
            figure("SLOs that met their objective", met, previous_met, better="higher"),
            figure(
                "SLOs that missed it",
                len(missed),
                len(previous) - previous_met if previous else None,
            ),
        ],
        "worst": worst,
        "rows": listed[:MAX_SLO_ROWS],
        "more": max(len(listed) - MAX_SLO_ROWS, 0),
        "rows_are": "all" if scope.team is not None else "missed",
    }


def error_budget_now(scope: ReportScope) -> dict | None:
    rows = [
        {
            "name": slo["name"],
            "service": slo["service_name"],
            "url": _slo_url(slo),
            "remaining": slo["remaining"],
            "tier": slo["tier"],
            "stale": slo["stale"],
        }
        for slo in _slos(scope)
        if slo["remaining"] is not None
    ]
    if not rows:
        return None
    rows.sort(key=lambda row: (row["remaining"], row["service"], row["name"]))
    tiers = Counter(row["tier"] for row in rows)
    previous = (scope.previous_figures.get("budget") or {}).get("tiers") or {}
    scorecard = (
        reverse("team_scorecard", args=[scope.team.slug]) if scope.team else reverse("slo_list")
    )
    return {
        "tiers": dict(tiers),
        "figures": [
            figure(
                f"SLOs in the {tier} tier",
                count,
                previous.get(tier, 0) if previous else None,
                better="higher" if tier == "healthy" else "lower",
            )
            for tier, count in sorted(tiers.items(), key=lambda item: -item[1])
        ],
        "rows": rows[:MAX_SLO_ROWS],
        "more": max(len(rows) - MAX_SLO_ROWS, 0),
        "scorecard_url": scorecard,
    }


def _mean_seconds(stats) -> float | None:
    return None if stats.mean is None else stats.mean.total_seconds()


def incidents_section(scope: ReportScope) -> dict:
    """Incidents that started in the month (TIME_ZONE): counts by severity, MTTA, MTTR and
    MTBF as incidents.metrics computes them for the metrics page, the SEV1 and SEV2 list, and
    twelve months of counts and MTTR for the charts. Two queries for the figures, one for
    the list."""
    zone = portal_zone()
    first = scope.month.shifted(-(TREND_MONTHS - 1))
    incidents = Incident.objects.all()
    if scope.team is not None:
        incidents = incidents.filter(team=scope.team)
    records, _, _ = incident_metric_selectors.incident_records(
        incidents.filter(started_at__gte=first.start, started_at__lt=scope.month.end)
    )
    months = [first.shifted(offset) for offset in range(TREND_MONTHS)]
    by_month = {
        month.key: incident_metrics(records, start=month.start, end=month.end, tz=zone)
        for month in months
    }
    this = by_month[scope.month.key]
    previous_month = scope.month.previous()
    before = by_month.get(previous_month.key) or incident_metrics(
        records, start=previous_month.start, end=previous_month.end, tz=zone
    )
    this_counts = next(iter(this.by_month.values()))
    before_counts = next(iter(before.by_month.values()))
    serious = incident_selectors.incidents_in_period(
        start=scope.month.start, end=scope.month.end, team=scope.team
    ).filter(severity__in=sorted(POSTMORTEM_REQUIRED_SEVERITIES))
    metrics_url = (
        reverse("incident_metrics")
        + "?"
        + urlencode({**scope.team_query, "month": scope.month.key})
    )
    return {
        "count": this.count,
        "by_severity": this_counts,
        "figures": [
            figure("Incidents", this.count, before.count),
            *(figure(code, this_counts[code], before_counts[code]) for code in Severity.values),
            figure("MTTA (mean)", _mean_seconds(this.mtta), _mean_seconds(before.mtta), "duration"),
            figure("MTTR (mean)", _mean_seconds(this.mttr), _mean_seconds(before.mttr), "duration"),
            figure(
                "MTBF",
                None if this.mtbf is None else this.mtbf.total_seconds(),
                None if before.mtbf is None else before.mtbf.total_seconds(),
                "duration",
                better="higher",
            ),
        ],
        "serious": [
            {
                "reference": incident.reference,
                "title": incident.title,
                "severity": incident.severity,
                "url": incident.get_absolute_url(),
                "started_at": incident.started_at.isoformat(),
                "duration": (
                    (incident.resolved_at - incident.started_at).total_seconds()
                    if incident.resolved_at
                    else None
                ),
            }
            for incident in serious
        ],
        "trend": [
            {
                "month": month.key,
                "label": f"{month.first_day:%b %Y}",
                "counts": next(iter(by_month[month.key].by_month.values())),
                "mttr": _mean_seconds(by_month[month.key].mttr),
            }
            for month in months
        ],
        "metrics_url": metrics_url,
    }


def follow_up_section(scope: ReportScope) -> dict:
    def figures_of(month: Month):
        return postmortem_selectors.follow_up_figures(
            start=month.start, end=month.end, last_day=month.last_day, team=scope.team
        )

    this, before = figures_of(scope.month), figures_of(scope.month.previous())
    return {
        "figures": [
            figure(
                "Post-mortems published",
                this.postmortems_published,
                before.postmortems_published,
                better="higher",
            ),
            figure(
                "Post-mortems overdue at the month's end",
                this.postmortems_overdue,
                before.postmortems_overdue,
            ),
            figure(
                "Action items opened",
                this.action_items_opened,
                before.action_items_opened,
                better="none",
            ),
            figure(
                "Action items closed",
                this.action_items_closed,
                before.action_items_closed,
                better="higher",
            ),
            figure(
                "Action items overdue at the month's end",
                this.action_items_overdue,
                before.action_items_overdue,
            ),
        ],
        "postmortems_url": reverse("postmortem_list"),
    }


def dora_section(scope: ReportScope) -> dict | None:
    """Production deployments and DORA's four keys plus the rework rate of the month, from
    toil's snapshots (toil.selectors.deployments.dora_month), the previous month beside each,
    and the band the keys put the scope in (DORA's thresholds, toil.dora.BANDS). None when
    neither month had a deployment. Two queries."""
    this = deployment_selectors.dora_month(scope.team, scope.month.first_day)
    before = deployment_selectors.dora_month(scope.team, scope.month.previous().first_day)
    if not this.deployments and not before.deployments:
        return None
    band = dora.overall_band(this)
    summary = f"{this.deployments} production deployment{'s' if this.deployments != 1 else ''}"
    summary += f"; DORA band {band}." if band else "."
    return {
        "deployments": this.deployments,
        "band": band,
        "previous_band": dora.overall_band(before),
        "figures": [
            figure("Deployments", this.deployments, before.deployments, better="higher"),
            figure(
                "Deployments per day",
                round(this.deployment_frequency, 2),
                round(before.deployment_frequency, 2),
                better="higher",
            ),
            figure("Lead time for changes (median)", this.lead_time, before.lead_time, "duration"),
            figure(
                "Change failure rate",
                this.change_failure_rate,
                before.change_failure_rate,
                "percent",
            ),
            figure(
                "Failed deployment recovery time (median)",
                this.recovery_time,
                before.recovery_time,
                "duration",
            ),
            figure("Deployment rework rate", this.rework_rate, before.rework_rate, "percent"),
        ],
        "summary": summary,
        "dora_url": reverse("dora") + (f"?{urlencode(scope.team_query)}" if scope.team else ""),
    }


def maturity_section(scope: ReportScope) -> dict | None:
    """Each team's services at each level of the maturity scorecard as things stand, and the
    tier-1/2 services in production without a valid readiness review at the month's end."""
    scorecard = scorecard_selectors.current_scorecard(scorecard_selectors.DEFAULT_SCORECARD)
    if scorecard is None:
        return None
    levels = [level.name for level in sorted(scorecard.levels.all(), key=lambda x: x.rank)]
    columns = ["none", *levels]
    by_team = {
        team: counts
        for team, counts in scorecard_selectors.maturity_levels_by_team(scorecard=scorecard).items()
        if scope.team is None or team.pk == scope.team.pk
    }
    unreviewed = readiness_selectors.production_without_review(scope.month.end)
    if scope.team is not None:
        unreviewed = unreviewed.filter(owner_team=scope.team)
    unreviewed_count = unreviewed.count()
    if not by_team and not unreviewed_count:
        return None
    top = levels[-1] if levels else None
    rows = [
        {
            "team": team.name,
            "flagged": False,
            "values": [
                figure(name if name != "none" else "No level", counts.get(name, 0), None)
                for name in columns
            ],
        }
        for team, counts in sorted(by_team.items(), key=lambda item: item[0].name.casefold())
    ]
    figures = [
        figure(
            "Tier-1/2 services in production without a valid readiness review",
            unreviewed_count,
            None,
        )
    ]
    if top is not None:
        figures.insert(
            0,
            figure(
                f"Services at {top}",
                sum(counts.get(top, 0) for counts in by_team.values()),
                None,
                better="higher",
            ),
        )
    return {
        "columns": ["No level" if name == "none" else name for name in columns],
        "rows": rows,
        "figures": figures,
        "summary": f"Levels of the {scorecard.title} scorecard as they stand when the report "
        "is made.",
    }


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A report section: its key (and templates), title, and builder; None until the records
    it reports on exist in the portal (the report says "No data this month" there)."""

    key: str
    title: str
    build: Callable[[ReportScope], dict | None] | None


#: The report's sections in reading order, after the executive summary. One line each.
SECTIONS: list[Section] = [
    Section("slos", "SLO performance", slo_performance),
    Section("budget", "Error budget now", error_budget_now),
    Section("incidents", "Incidents", incidents_section),
    Section("follow_up", "Post-mortems and action items", follow_up_section),
    Section("dora", "Deployments and DORA's keys", dora_section),
    Section(
        "toil",
        "Toil",
        team_rows(
            "toil.selectors.toil.toil_report_rows",
            [
                Field("estimated_hours", "Estimated", kind="hours", better="lower"),
                Field("measured_hours", "Measured", kind="hours", better="lower"),
                Field("share", "Share of capacity", kind="percent", better="lower"),
                Field("hours_saved", "Saved by automation", kind="hours"),
            ],
            flag=Field("over_cap", "over the toil cap"),
        ),
    ),
    Section("maturity", "Readiness and maturity", maturity_section),
]


def sections_build(scope: ReportScope) -> dict[str, dict | None]:
    """Every registered section's data, by key (None: no data this month)."""
    return {section.key: section.build(scope) if section.build else None for section in SECTIONS}


# --- the executive summary ----------------------------------------------------------------------


def summary_sentences(data: dict[str, dict | None]) -> list[str]:
    """The executive summary: a sentence per core section, computed from its figures."""
    sentences = []
    slos = data.get("slos")
    if slos:
        sentence = f"{slos['met']} of {slos['measured']} SLOs met their objective"
        if slos["missed_names"]:
            names = slos["missed_names"][:3]
            more = len(slos["missed_names"]) - len(names)
            sentence += "; missed: " + ", ".join(names) + (f" and {more} more" if more else "")
        sentences.append(sentence + ".")
    else:
        sentences.append("No SLO had data for the month.")
    incidents = data.get("incidents")
    if incidents is not None:
        counts = incidents["by_severity"]
        if not incidents["count"]:
            sentences.append("No incidents.")
        else:
            parts = [f"{incidents['count']} incident{'s' if incidents['count'] != 1 else ''}"]
            parts.append("no SEV1" if not counts["SEV1"] else f"{counts['SEV1']} SEV1")
            if counts["SEV2"]:
                parts.append(f"{counts['SEV2']} SEV2")
            mttr = next(f for f in incidents["figures"] if f["label"] == "MTTR (mean)")
            sentence = ", ".join(parts[:1]) + " (" + ", ".join(parts[1:]) + ")"
            if mttr["value"] is not None:
                sentence += f"; MTTR {duration_text(mttr['value'])}"
                if mttr["previous"] is not None:
                    sentence += f" (was {duration_text(mttr['previous'])})"
            sentences.append(sentence + ".")
    budget = data.get("budget")
    if budget:
        tiers = ", ".join(f"{count} {tier}" for tier, count in sorted(budget["tiers"].items()))
        sentences.append(f"Error budgets now: {tiers}.")
    follow_up = data.get("follow_up")
    if follow_up:
        published, overdue, _opened, closed, late = (f["value"] for f in follow_up["figures"])
        sentences.append(
            f"{published} post-mortem{'s' if published != 1 else ''} published, "
            f"{overdue} overdue; {closed} action item{'s' if closed != 1 else ''} closed, "
            f"{late} overdue."
        )
    for section in SECTIONS:
        extra = data.get(section.key) or {}
        if isinstance(extra, dict) and extra.get("summary"):
            sentences.append(extra["summary"])
    return sentences
