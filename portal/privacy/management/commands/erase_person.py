"""Erase a person's personal data, keeping the records they took part in."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.privacy.actions import former_member_name, person_erase
from portal.privacy.models import Erasure


class Command(BaseCommand):
    help = (
        "Deactivate a person's account and replace their name, username and email with "
        "“former member #N” in every record. Incidents, post-mortems and history stay whole. "
        "It cannot be undone."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--by", metavar="USERNAME", help="Who asked for it (recorded with the erasure)."
        )

    def handle(self, *args, username, by=None, **options):
        people = get_user_model().objects
        person = people.filter(username=username).first()
        if person is None:
            raise CommandError(f"No person has the username “{username}”.")
        requester = None
        if by:
            requester = people.filter(username=by).first()
            if requester is None:
                raise CommandError(f"No person has the username “{by}”.")
        try:
            person_erase(person=person, by=requester, via=Erasure.Via.COMMAND)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Erased “{username}”: now {former_member_name(person)}.")
