from django.core.management.base import BaseCommand, CommandError

from services.actions.standards import scorecard_load
from services.management.commands.load_checklist import read_sources
from services.standards import StandardError


class Command(BaseCommand):
    help = (
        "Load maturity scorecard YAML files: each file whose content changed becomes its "
        "scorecard's next version, and every service is scored again. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="Scorecard YAML files")

    def handle(self, *args, files, **options):
        try:
            loaded = scorecard_load(sources=read_sources(files))
        except StandardError as error:
            raise CommandError(f"{error}. Nothing was loaded.") from error
        for outcome in loaded:
            self.stdout.write(outcome.summary())
