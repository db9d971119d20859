"""Print everything the portal holds about a person, as JSON."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.privacy.export import personal_data_export


class Command(BaseCommand):
    help = "Write everything the portal holds about a person to standard output, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        person = get_user_model().objects.filter(username=username).first()
        if person is None:
            raise CommandError(f"No person has the username “{username}”.")
        self.stdout.write(
            json.dumps(personal_data_export(person), indent=2, ensure_ascii=False, sort_keys=True)
        )
