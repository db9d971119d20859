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

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from incidents.demo import load_demo_incidents
from portal.compliance.demo import load_demo_compliance
from portal.reports.demo import load_demo_reports
from portal.roles import grant_sre_lead
from services.actions.catalog import membership_set, service_create, team_create
from services.choices import Lifecycle, MembershipRole, Tier
from services.demo import load_demo_slos
from services.demo_readiness import load_demo_readiness
from services.models.catalog import Service, Team
from toil.demo.changes import load_demo_changes
from toil.demo.toil import load_demo_toil

ADMIN_USERNAME = "admin"
PASSWORD_FILE_NAME = "demo-password"

ENGINEER = MembershipRole.ENGINEER
VIEWER = MembershipRole.VIEWER

# username: (first name, last name)
PEOPLE = {
    "priya": ("Priya", "Raman"),
    "marco": ("Marco", "Bianchi"),
    "lena": ("Lena", "Vogel"),
    "tomas": ("Tomás", "Ortega"),
    "aisha": ("Aisha", "Bello"),
    "kenji": ("Kenji", "Sato"),
    "nora": ("Nora", "Lindqvist"),
    "sam": ("Sam", "Okafor"),
    "ines": ("Inês", "Carvalho"),
    "david": ("David", "Cohen"),
    "mei": ("Mei", "Chen"),
    "oliver": ("Oliver", "Hughes"),
}

# slug: (name, description, chat channel, manager, {username: role})
TEAMS = {
    "payments": (
        "Payments",
        "Takes money: card payments, refunds and payouts.",
        "#payments-oncall",
        "priya",
        {"priya": ENGINEER, "marco": ENGINEER, "oliver": VIEWER},
    ),
    "checkout": (
        "Checkout",
        "Basket, checkout flow and order placement.",
        "#checkout",
        "lena",
        {"lena": ENGINEER, "tomas": ENGINEER, "oliver": VIEWER},
    ),
    "identity": (
        "Identity",
        "Accounts, sign-in, sessions and permissions for customers.",
        "#identity",
        "aisha",
        {"aisha": ENGINEER, "kenji": ENGINEER},
    ),
    "search": (
        "Search",
        "Product search, ranking and recommendations.",
        "#search",
        "nora",
        {"nora": ENGINEER, "sam": ENGINEER, "mei": VIEWER},
    ),
    "platform": (
        "Platform",
        "Shared infrastructure: gateway, messaging, deploys and observability.",
        "#platform-oncall",
        "ines",
        {"ines": ENGINEER, "david": ENGINEER, "kenji": VIEWER},
    ),
    "data": (
        "Data",
        "Event pipeline, warehouse and reporting.",
        "#data-eng",
        "mei",
        {"mei": ENGINEER, "sam": VIEWER},
    ),
}


@dataclass(frozen=True)
class DemoService:
    slug: str
    name: str
    team: str
    tier: int
    lifecycle: str
    description: str
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    kind: str = "service"
    system: str = ""
    retention_days: int | None = None  # set for services that handle personal data


# Listed so that every service comes after the services it depends on.
SERVICES = [
    DemoService(
        "event-pipeline",
        "Event Pipeline",
        "data",
        Tier.TIER_2,
        Lifecycle.PRODUCTION,
        "Collects click and order events into the warehouse.",
        ("python", "gdpr"),
        kind="worker",
        system="analytics",
        retention_days=395,
    ),
    DemoService(
        "api-gateway",
        "API Gateway",
        "platform",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Routes public traffic to the services behind it; TLS, rate limits, auth checks.",
        ("edge", "go"),
        system="edge",
    ),
    DemoService(
        "message-bus",
        "Message Bus",
        "platform",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Kafka clusters and the topics the services publish their events to.",
        ("messaging",),
        kind="infrastructure",
    ),
    DemoService(
        "deploy-pipeline",
        "Deploy Pipeline",
        "platform",
        Tier.TIER_2,
        Lifecycle.PRODUCTION,
        "Builds, tests and rolls out every service; progressive rollouts with automatic rollback.",
        ("ci-cd",),
        kind="tool",
    ),
    DemoService(
        "metrics-stack",
        "Metrics Stack",
        "platform",
        Tier.TIER_2,
        Lifecycle.PRODUCTION,
        "Prometheus, Alertmanager and the dashboards the on-call engineers look at.",
        ("observability",),
        kind="infrastructure",
    ),
    DemoService(
        "legacy-cron",
        "Legacy Cron Host",
        "platform",
        Tier.TIER_3,
        Lifecycle.DEPRECATED,
        "A single VM running nightly jobs; being replaced by scheduled workers.",
        ("legacy",),
        kind="infrastructure",
    ),
    DemoService(
        "accounts",
        "Accounts",
        "identity",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Customer accounts and profiles: names, addresses, contact preferences.",
        ("python", "gdpr"),
        ("message-bus",),
        system="identity",
        retention_days=730,
    ),
    DemoService(
        "auth",
        "Auth",
        "identity",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Sign-in, multi-factor authentication and session tokens.",
        ("go", "security"),
        ("accounts",),
        system="identity",
        retention_days=90,
    ),
    DemoService(
        "consent",
        "Consent Service",
        "identity",
        Tier.TIER_2,
        Lifecycle.EXPERIMENTAL,
        "Records what each customer agreed to, and when, for marketing and analytics.",
        ("python", "gdpr"),
        ("accounts",),
        system="identity",
        retention_days=1825,
    ),
    DemoService(
        "payments-api",
        "Payments API",
        "payments",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Authorises and captures card payments through the acquirers.",
        ("java", "pci"),
        ("api-gateway", "auth", "message-bus"),
        system="payments",
        retention_days=2555,
    ),
    DemoService(
        "refunds",
        "Refunds",
        "payments",
        Tier.TIER_2,
        Lifecycle.PRODUCTION,
        "Refunds and chargebacks, with the approvals finance asks for.",
        ("java", "pci"),
        ("payments-api",),
        system="payments",
        retention_days=2555,
    ),
    DemoService(
        "payouts",
        "Payouts",
        "payments",
        Tier.TIER_2,
        Lifecycle.EXPERIMENTAL,
        "Pays marketplace sellers out to their bank accounts every day.",
        ("java",),
        ("payments-api", "accounts"),
        system="payments",
        retention_days=2555,
    ),
    DemoService(
        "fraud-scoring",
        "Fraud Scoring",
        "payments",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Scores each payment for fraud risk before it is authorised.",
        ("python", "ml"),
        ("message-bus",),
        system="payments",
    ),
    DemoService(
        "cart",
        "Cart",
        "checkout",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Baskets: items, quantities and prices until the order is placed.",
        ("kotlin",),
        ("api-gateway", "auth"),
        system="checkout",
    ),
    DemoService(
        "checkout-web",
        "Checkout Web",
        "checkout",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "The checkout pages customers pay on.",
        ("typescript", "frontend"),
        ("cart", "payments-api", "accounts"),
        kind="website",
        system="checkout",
    ),
    DemoService(
        "orders",
        "Orders",
        "checkout",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Places orders and tracks them until delivery; keeps delivery addresses.",
        ("kotlin", "gdpr"),
        ("cart", "payments-api", "message-bus"),
        system="checkout",
        retention_days=1095,
    ),
    DemoService(
        "promotions",
        "Promotions",
        "checkout",
        Tier.TIER_3,
        Lifecycle.EXPERIMENTAL,
        "Discount codes and campaigns applied at checkout.",
        ("kotlin",),
        ("cart",),
        system="checkout",
    ),
    DemoService(
        "search-api",
        "Search API",
        "search",
        Tier.TIER_1,
        Lifecycle.PRODUCTION,
        "Full-text product search behind the shop's search box.",
        ("java", "elasticsearch"),
        ("api-gateway",),
        system="discovery",
    ),
    DemoService(
        "search-indexer",
        "Search Indexer",
        "search",
        Tier.TIER_2,
        Lifecycle.PRODUCTION,
        "Keeps the search index in step with the product catalogue.",
        ("java", "elasticsearch"),
        ("message-bus",),
        kind="worker",
        system="discovery",
    ),
    DemoService(
        "recommendations",
        "Recommendations",
        "search",
        Tier.TIER_3,
        Lifecycle.EXPERIMENTAL,
        "Suggests products from what similar customers bought.",
        ("python", "ml"),
        ("search-api", "event-pipeline"),
        system="discovery",
        retention_days=365,
    ),
    DemoService(
        "old-search",
        "Old Search",
        "search",
        Tier.TIER_3,
        Lifecycle.DEPRECATED,
        "The search engine before Search API; still answers the mobile app's old versions.",
        ("legacy",),
        ("api-gateway",),
        system="discovery",
    ),
    DemoService(
        "reporting",
        "Reporting",
        "data",
        Tier.TIER_3,
        Lifecycle.PRODUCTION,
        "Daily business reports built from the warehouse.",
        ("python",),
        ("event-pipeline", "orders"),
        kind="website",
        system="analytics",
    ),
]


def _links(demo: DemoService) -> dict:
    return {
        "repository_url": f"https://git.example.com/{demo.team}/{demo.slug}",
        "runbook_url": f"https://wiki.example.com/runbooks/{demo.slug}",
        "dashboard_url": f"https://grafana.example.com/d/{demo.slug}",
        "oncall_url": f"https://oncall.example.com/schedules/{demo.team}",
    }


def password_file() -> Path:
    return Path(settings.VAR_DIR) / PASSWORD_FILE_NAME


def demo_password() -> tuple[str, bool]:
    """The demo password and whether it was generated just now.

    Generated on first use and kept in var/ readable by its owner only; never in the
    repository.
    """
    path = password_file()
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    # Created with mode 0600 from the start: no moment where another user could read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")
    return password, True


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
    users = _load_people(password_hash, reset_passwords, summary)
    _load_admin(password, password_hash, summary)
    teams = _load_teams(users, summary)
    _load_services(teams, summary)
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


#: How often the worker pushes the demo SLOs' new buckets.
DEMO_SLI_DATA_EVERY_MINUTES = 5


def schedule_demo_sli_data() -> None:
    """Have beat push the demo SLOs' data every few minutes, so that they stay fresh while
    the demo runs. Kept in beat's database schedule, next to the settings' tasks, since only a
    database with the demo loaded needs it."""
    every, _ = IntervalSchedule.objects.get_or_create(
        every=DEMO_SLI_DATA_EVERY_MINUTES, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.update_or_create(
        name="Demo SLI data",
        defaults={"task": "services.tasks.push_demo_sli_data", "interval": every, "enabled": True},
    )


def _load_people(password_hash, reset_passwords, summary) -> dict:
    User = get_user_model()
    users = {}
    for username, (first_name, last_name) in PEOPLE.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@example.com",
                "password": password_hash,
            },
        )
        if not created and reset_passwords:
            user.password = password_hash
            user.save(update_fields=["password"])
        summary.users_created += created
        users[username] = user
    return users


def _load_admin(password, password_hash, summary) -> None:
    admin, created = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={
            "first_name": "Alex",
            "last_name": "Admin",
            "email": "sre-lead@example.com",
            "password": password_hash,
            "is_staff": True,
        },
    )
    summary.users_created += created
    if not created:
        changed = []
        if not admin.is_staff:
            admin.is_staff = True
            changed.append("is_staff")
        if not admin.check_password(password):
            admin.password = password_hash
            changed.append("password")
        if changed:
            admin.save(update_fields=changed)
    grant_sre_lead(admin)


def _load_teams(users, summary) -> dict:
    teams = {team.slug: team for team in Team.objects.filter(slug__in=TEAMS)}
    for slug, (name, description, channel, manager, members) in TEAMS.items():
        if slug in teams:
            continue
        team = team_create(
            name=name,
            slug=slug,
            description=description,
            email=f"{slug}@example.com",
            chat_channel=channel,
            manager=users[manager],
        )
        for username, role in members.items():
            membership_set(team=team, user=users[username], role=role)
        teams[slug] = team
        summary.teams_created += 1
    return teams


def _load_services(teams, summary) -> None:
    services = {
        service.slug: service
        for service in Service.objects.filter(slug__in=[demo.slug for demo in SERVICES])
    }
    for demo in SERVICES:
        if demo.slug in services:
            continue
        services[demo.slug] = service_create(
            name=demo.name,
            slug=demo.slug,
            description=demo.description,
            owner_team=teams[demo.team],
            tier=demo.tier,
            lifecycle=demo.lifecycle,
            kind=demo.kind,
            system=demo.system,
            handles_personal_data=demo.retention_days is not None,
            data_retention_days=demo.retention_days,
            tags=demo.tags,
            # A dependency someone deleted since the last load stays deleted.
            depends_on=[services[slug] for slug in demo.depends_on if slug in services],
            # The demo records an organisation as it is: its services are in production already.
            readiness_gate=False,
            **_links(demo),
        )
        summary.services_created += 1
