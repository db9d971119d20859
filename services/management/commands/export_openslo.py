from django.core.management.base import BaseCommand, CommandError

from services.openslo.exporter import UnknownService, export_yaml, slos_for_export


class Command(BaseCommand):
    help = "Write every SLO (or one service's) as OpenSLO v1 documents, a YAML stream on stdout."

    def add_arguments(self, parser):
        parser.add_argument("--service", metavar="SLUG", help="Only this service's SLOs.")

    def handle(self, *args, service, **options):
        try:
            slos = slos_for_export(service)
        except UnknownService as error:
            raise CommandError(error) from error
        self.stdout.write(export_yaml(slos), ending="")
