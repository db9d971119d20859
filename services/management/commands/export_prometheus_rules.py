from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from services.openslo.exporter import UnknownService, slos_for_export
from services.rules import rules_yaml


class Command(BaseCommand):
    help = (
        "Write Prometheus recording and alerting rules for every SLO (or one service's) as a "
        "rules file on stdout: SLI error ratios per window, budget, burn rates, page and ticket "
        "alerts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--service", metavar="SLUG", help="Only this service's SLOs.")

    def handle(self, *args, service, **options):
        try:
            slos = slos_for_export(service)
        except UnknownService as error:
            raise CommandError(error) from error
        self.stdout.write(rules_yaml(slos, portal_base_url=settings.PORTAL_BASE_URL), ending="")
