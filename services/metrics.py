"""Catalog and SLO metrics for /metrics, read from the database at scrape time: the SLO
snapshots and the outcomes of the syncs from Prometheus, whichever process did the syncing."""

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from services.budget.windows import BUCKET
from services.models.catalog import Service, Team
from services.models.slos import SLOStatus


class CatalogCollector:
    def collect(self):
        services = GaugeMetricFamily(
            "portal_catalog_services",
            "Services in the catalog, by tier and lifecycle.",
            labels=["tier", "lifecycle"],
        )
        rows = Service.objects.values("tier", "lifecycle").annotate(count=Count("id"))
        for row in rows.order_by("tier", "lifecycle"):
            services.add_metric([str(row["tier"]), row["lifecycle"]], row["count"])
        yield services
        yield GaugeMetricFamily(
            "portal_catalog_teams", "Teams in the catalog.", value=Team.objects.count()
        )


class SLOCollector:
    """Each SLO's snapshot as gauges, from one query however many SLOs there are."""

    def collect(self):
        labels = ["service", "slo"]
        remaining = GaugeMetricFamily(
            "portal_slo_budget_remaining",
            "Error budget remaining, as a fraction (below zero once overspent).",
            labels=labels,
        )
        attainment = GaugeMetricFamily(
            "portal_slo_attainment",
            "Share of good events (or slices) in the window.",
            labels=labels,
        )
        burn_rates = GaugeMetricFamily(
            "portal_slo_burn_rate",
            "Burn rate over a look-back window (1 spends the budget in exactly one SLO window).",
            labels=[*labels, "window"],
        )
        stale = GaugeMetricFamily(
            "portal_slo_stale",
            "1 while the SLO's data is stale or its last sync failed, else 0.",
            labels=labels,
        )
        data_age = GaugeMetricFamily(
            "portal_slo_data_age_seconds",
            "Seconds from the end of the newest bucket with data to the snapshot.",
            labels=labels,
        )
        sync_failing = GaugeMetricFamily(
            "portal_slo_sync_failing",
            "1 while the SLO's last sync from Prometheus failed, else 0.",
            labels=labels,
        )
        sync_seconds = GaugeMetricFamily(
            "portal_slo_sync_duration_seconds",
            "How long the SLO's last sync took: its queries and storing the buckets.",
            labels=labels,
        )
        sync_errors = CounterMetricFamily(
            "portal_slo_sync_errors",
            "Failed syncs, by kind: retryable (Prometheus unreachable or failing) or permanent "
            "(a query Prometheus refused).",
            labels=[*labels, "kind"],
        )
        rows = SLOStatus.objects.values_list(
            "slo__service__slug",
            "slo__slug",
            "remaining",
            "attainment",
            "burn_rates",
            "stale",
            "latest_data_at",
            "computed_at",
            "last_sync_error",
            "last_sync_seconds",
            "retryable_sync_errors",
            "permanent_sync_errors",
        ).order_by("slo__service__slug", "slo__slug")
        for row in rows:
            service, slo, budget_left, attained, rates, is_stale, latest, computed, *sync = row
            error, seconds, retryable_errors, permanent_errors = sync
            key = [service, slo]
            if budget_left is not None:
                remaining.add_metric(key, budget_left)
            if attained is not None:
                attainment.add_metric(key, attained)
            for window, rate in rates.items():
                if rate is not None:
                    burn_rates.add_metric([*key, window], rate)
            stale.add_metric(key, float(is_stale))
            sync_failing.add_metric(key, float(bool(error)))
            if latest is not None:
                data_age.add_metric(key, max(0.0, (computed - latest - BUCKET).total_seconds()))
            if seconds is not None:
                sync_seconds.add_metric(key, seconds)
            sync_errors.add_metric([*key, "retryable"], retryable_errors)
            sync_errors.add_metric([*key, "permanent"], permanent_errors)
        yield from (
            remaining,
            attainment,
            burn_rates,
            stale,
            data_age,
            sync_failing,
            sync_seconds,
            sync_errors,
        )
