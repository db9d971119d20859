"""Catalog gauges for /metrics, read from the database at scrape time."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from services.models import Service, Team


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
