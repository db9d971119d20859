"""Demo data for `make run`: a small organisation with teams, people, a service catalog,
SLOs with a month of synthetic SLI history (services.demo), incidents (incidents.demo) and
readiness reviews and scorecards (services.demo_readiness), and last month's reports
(portal.reports.demo).

Loading is idempotent: every record is looked up by its natural key (username, team slug,
service slug) and only created when missing, so a second run adds nothing and keeps the
edits made in the meantime.

Every demo person signs in with the one generated password kept in var/, so that a
developer can try the portal as an engineer or a viewer as well as the SRE lead.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from incidents.demo import load_demo_incidents
from portal.compliance.demo import load_demo_compliance
from portal.demo.catalog import load_services, load_teams
from portal.demo.people import load_admin, load_people
from portal.demo.sli_schedule import schedule_demo_sli_data
from portal.reports.demo import load_demo_reports
from services.demo import load_demo_slos
from services.demo_readiness import load_demo_readiness
from toil.demo.changes import load_demo_changes
from toil.demo.toil import load_demo_toil


@dataclass
class DemoSummary:
    users_created: int = 0
    teams_created: int = 0
    services_created: int = 0


@transaction.atomic
def load_demo_data(*, password: str, reset_passwords: bool = False) -> DemoSummary:
    """Create what is missing of the demo organisation; sign-in for everyone is `password`.

    The admin's password is always brought back to `password`, so that what `make run`
    prints works; the other people get it when created or when `reset_passwords`.
    """
    summary = DemoSummary()
    # One hash for everyone: hashing is deliberately slow, and these are throw-away accounts.
    password_hash = make_password(password)
    users = load_people(password_hash, reset_passwords, summary)
    load_admin(password, password_hash, summary)
    teams = load_teams(users, summary)
    load_services(teams, summary)
    load_demo_slos(timezone.now())
    schedule_demo_sli_data()
    load_demo_incidents(timezone.now())
    load_demo_toil(timezone.now())
    load_demo_compliance(timezone.now())
    load_demo_readiness(timezone.now())
    # After the readiness reviews: the gate's recorded answers read them.
    load_demo_changes(timezone.now())
    # Last: the reports read every other app's records.
    load_demo_reports(timezone.now())
    return summary
