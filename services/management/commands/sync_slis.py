"""One SLI sync cycle in the foreground: what the worker does every minute, for every SLO or one."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from services.actions.sli import slo_sync
from services.actions.statuses import slo_statuses_recompute
from services.models.slos import SLO, SLOStatus
from services.prometheus import PrometheusError
from services.selectors import slos as slo_selectors


def _percent(fraction: float | None) -> str:
    return "no data" if fraction is None else f"{fraction:.2%}"


class Command(BaseCommand):
    help = (
        "Fetch new SLI buckets from Prometheus and recompute the status of the SLOs it feeds, once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--slo",
            metavar="SLUG",
            help="Sync only the SLO with this slug (in every service that has one).",
        )

    def handle(self, *args, slo=None, **options):
        slos = slo_selectors.slos_synced_from_prometheus().select_related("service")
        slos = slos.order_by("service__slug", "slug")
        if slo:
            if not SLO.objects.filter(slug=slo).exists():
                raise CommandError(f"No SLO has the slug “{slo}”.")
            slos = slos.filter(slug=slo)
            if not slos:
                raise CommandError(f"“{slo}” is fed by pushes through the API, not by Prometheus.")
        failed, synced = 0, {}
        for one in slos:
            name = f"{one.service.slug}/{one.slug}"
            try:
                synced[one.pk] = (name, slo_sync(slo=one, now=timezone.now()).buckets_written)
            except PrometheusError as error:
                failed += 1
                self.stderr.write(f"{name}: failed: {error}")
        # The cycle's SLOs recomputed together, as the worker does after a cycle.
        slo_statuses_recompute(now=timezone.now(), slos=[one for one in slos if one.pk in synced])
        statuses = SLOStatus.objects.in_bulk(list(synced))
        for slo_id, (name, written) in synced.items():
            status = statuses[slo_id]
            self.stdout.write(
                f"{name}: {written} buckets fetched; "
                f"attainment {_percent(status.attainment)}, "
                f"budget remaining {_percent(status.remaining)}, alert {status.alert}, "
                f"tier {status.policy_tier}{', stale' if status.stale else ''}"
            )
        if failed:
            raise CommandError(f"{failed} of {len(slos)} SLOs failed to sync.")
