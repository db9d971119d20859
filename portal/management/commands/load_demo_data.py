"""Load the demo organisation and print how to sign in (used by `make run`)."""

from django.core.management.base import BaseCommand

from portal.demo.load import load_demo_data
from portal.demo.password import demo_password, password_file
from portal.demo.people import ADMIN_USERNAME


class Command(BaseCommand):
    help = (
        "Create the demo teams, people and services that are missing (safe to run again) and "
        "print the demo SRE lead's username and password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="The address to print for signing in.",
        )

    def handle(self, *args, url, **options):
        password, generated = demo_password()
        summary = load_demo_data(password=password, reset_passwords=generated)
        self.stdout.write(
            f"Demo data: {summary.teams_created} teams, {summary.services_created} services "
            f"and {summary.users_created} people added."
        )
        self.stdout.write(
            self.style.SUCCESS(
                "\n"
                f"  Reliability Portal: {url}\n"
                f"  Username:           {ADMIN_USERNAME}\n"
                f"  Password:           {password}\n"
                f"  (kept in {password_file()}; the other demo people, e.g. priya, "
                "use it too)\n"
            )
        )
