"""The demo teams, their members, and the service catalog."""

from dataclasses import dataclass

from services.actions.catalog import membership_set, service_create, team_create
from services.choices import Lifecycle, MembershipRole, Tier
from services.models.catalog import Service, Team

ENGINEER = MembershipRole.ENGINEER
VIEWER = MembershipRole.VIEWER

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


def load_teams(users, summary) -> dict:
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


def load_services(teams, summary) -> None:
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
