"""Exporting: SLOs to OpenSLO v1 documents that import back to the same definitions."""

from collections.abc import Iterable
from decimal import Decimal

import yaml
from django.db.models import QuerySet

from services.choices import BudgetingMethod, QueryKind, WindowKind
from services.models.catalog import Service
from services.models.slos import SLO
from services.openslo.documents import (
    API_VERSION,
    BUDGET_POLICY_ANNOTATION,
    BUDGETING_METHODS,
    CALENDAR_MONTH,
    EXPORTED_START_TIME,
    SLI_KIND_ANNOTATION,
    TIME_ZONE_ANNOTATION,
)


class UnknownService(LookupError):
    pass


def slos_for_export(service_slug: str | None = None) -> QuerySet[SLO]:
    """Every SLO, or those of one service, with what an export reads (one query). An SLO
    fed by pushes without queries has nothing to export: no indicator, no rule."""
    slos = (
        SLO.objects.select_related("service", "budget_policy")
        .exclude(events_query="")
        .order_by("service__slug", "slug")
    )
    if service_slug is None:
        return slos
    if not Service.objects.filter(slug=service_slug).exists():
        raise UnknownService(f"No service with the slug “{service_slug}”.")
    return slos.filter(service__slug=service_slug)


def _metric_source(query: str) -> dict:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _plain_number(value: Decimal) -> int | float:
    """A Decimal as the YAML number people write (0.999, 5), never 0.99900."""
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def slo_document(slo: SLO) -> dict:
    """The OpenSLO v1 document of an SLO; importing it gives the same definition."""
    annotations = {SLI_KIND_ANNOTATION: slo.sli_kind}
    if slo.budget_policy is not None:
        annotations[BUDGET_POLICY_ANNOTATION] = slo.budget_policy.slug
    if slo.window_kind == WindowKind.ROLLING:
        annotations[TIME_ZONE_ANNOTATION] = slo.time_zone
        time_window = {"duration": f"{slo.window_days}d", "isRolling": True}
    else:
        time_window = {
            "duration": CALENDAR_MONTH,
            "isRolling": False,
            "calendar": {"startTime": EXPORTED_START_TIME, "timeZone": slo.time_zone},
        }
    events = "bad" if slo.query_kind == QueryKind.BAD_TOTAL else "good"
    objective = {"displayName": slo.name, "target": _plain_number(slo.objective / 100)}
    if slo.budgeting_method == BudgetingMethod.TIMESLICES:
        objective["timeSliceTarget"] = _plain_number(slo.slice_target / 100)
        objective["timeSliceWindow"] = f"{slo.slice_minutes}m"
    metadata = {"name": slo.slug, "displayName": slo.name}
    if slo.labels:
        metadata["labels"] = {str(name): str(value) for name, value in slo.labels.items()}
    metadata["annotations"] = annotations
    method = next(
        name for name, value in BUDGETING_METHODS.items() if value == slo.budgeting_method
    )
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": metadata,
        "spec": {
            "description": slo.description,
            "service": slo.service.slug,
            "indicator": {
                "metadata": {"name": f"{slo.slug}-sli"},
                "spec": {
                    "ratioMetric": {
                        "counter": True,
                        events: _metric_source(slo.events_query),
                        "total": _metric_source(slo.total_query),
                    }
                },
            },
            "timeWindow": [time_window],
            "budgetingMethod": method,
            "objectives": [objective],
        },
    }


def export_yaml(slos: Iterable[SLO]) -> str:
    """A multi-document YAML stream, one OpenSLO document per SLO."""
    return yaml.safe_dump_all(
        (slo_document(slo) for slo in slos), sort_keys=False, allow_unicode=True, width=100
    )
