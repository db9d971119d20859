from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from services.actions.standards import checklist_load
from services.backstage.sources import Source
from services.standards import StandardError


def read_sources(paths) -> list[Source]:
    sources = []
    for path in paths:
        try:
            sources.append(Source(str(path), Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot be read ({error}). Nothing was loaded.") from error
    return sources


class Command(BaseCommand):
    help = (
        "Load readiness checklist YAML files: each file whose content changed becomes its "
        "checklist's next version. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="Checklist YAML files")

    def handle(self, *args, files, **options):
        try:
            loaded = checklist_load(sources=read_sources(files))
        except StandardError as error:
            raise CommandError(f"{error}. Nothing was loaded.") from error
        for outcome in loaded:
            self.stdout.write(outcome.summary())
