from django.core.management.base import BaseCommand, CommandError

from services.backstage.importer import import_sources
from services.backstage.sources import BackstageImportError, read_source


class Command(BaseCommand):
    help = (
        "Import Backstage catalog files (multi-document catalog-info.yaml) into the service "
        "catalog, all or nothing, and print what changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "locations",
            nargs="+",
            metavar="PATH_OR_URL",
            help="A catalog file, or an http(s) URL serving one.",
        )

    def handle(self, *args, locations, **options):
        try:
            report = import_sources([read_source(location) for location in locations])
        except BackstageImportError as error:
            raise CommandError(f"{error}. Nothing was imported.") from error
        for line in report.summary_lines():
            self.stdout.write(line)
