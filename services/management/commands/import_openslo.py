from django.core.management.base import BaseCommand, CommandError

from services.backstage.sources import BackstageImportError, read_source
from services.openslo.documents import OpenSLOError
from services.openslo.importer import import_sources


class Command(BaseCommand):
    help = (
        "Import OpenSLO v1 files (SLO and SLI documents with Prometheus ratio metrics) as SLOs, "
        "all or nothing, and print what changed. Re-importing updates, never duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="An OpenSLO YAML file.")

    def handle(self, *args, files, **options):
        try:
            report = import_sources([read_source(path) for path in files])
        except (BackstageImportError, OpenSLOError) as error:
            raise CommandError(f"{error}. Nothing was imported.") from error
        for line in report.summary_lines():
            self.stdout.write(line)
