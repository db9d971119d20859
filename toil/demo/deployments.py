"""Demo deployments for `make run` (toil.demo.changes loads them): a quarter of production
deployments, with a few that failed, were rolled back or caused one of the demo incidents, so
the DORA page has figures; and a few answers of the deploy gate, including the denial of a
service whose error budget is spent.

Deployments are known by service and version: loading again adds only what is missing."""

import datetime as dt
import random

from incidents.models.incidents import Incident
from services.actions.sli import slo_statuses_recompute
from services.models.slos import SLO, SLOStatus
from toil.actions.gate import gate_evaluate
from toil.choices.changes import ChangeCategory, DeploymentStatus
from toil.models.changes import ChangeRequest, GateDecision
from toil.models.deployments import Deployment, IncidentCause
from toil.selectors.changes import change_detail

C = ChangeCategory

#: Services whose pipelines report deployments, with deployments per working day.
DEPLOYING = {
    "payments-api": 1.2,
    "refunds": 0.4,
    "checkout-web": 2.0,
    "cart": 0.8,
    "orders": 0.6,
    "search-api": 1.5,
    "auth": 0.5,
    "api-gateway": 0.7,
    "message-bus": 0.2,
    "fraud-scoring": 0.5,
}
#: The demo incidents a deployment caused, by title.
CAUSED_INCIDENTS = (
    "Checkout pages slow during the spring sale",
    "Sign-in failures after a certificate rotation",
)
QUARTER = dt.timedelta(days=91)


def load_demo_deployments(now: dt.datetime, services, people) -> int:
    """A quarter of production deployments on working days, seeded so every load agrees;
    about one in ten fails or is rolled back, and is followed by a fix."""
    generator = random.Random(13)
    rows = []
    start_day = (now - QUARTER).date()
    for slug, per_day in DEPLOYING.items():
        service = services.get(slug)
        if service is None:
            continue
        number = 0
        for offset in range(QUARTER.days):
            day = start_day + dt.timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            count = int(per_day) + (generator.random() < per_day % 1)
            for _ in range(count):
                number += 1
                finished = dt.datetime.combine(
                    day, dt.time(9 + generator.randrange(8), generator.randrange(60)), tzinfo=dt.UTC
                )
                if finished >= now:
                    continue
                roll = generator.random()
                status = (
                    DeploymentStatus.FAILED
                    if roll < 0.06
                    else DeploymentStatus.ROLLED_BACK
                    if roll < 0.1
                    else DeploymentStatus.SUCCEEDED
                )
                first_commit = finished - dt.timedelta(hours=generator.uniform(2, 120))
                rows.append(
                    Deployment(
                        service=service,
                        environment="production",
                        version=f"{day:%Y.%m.%d}-{number}",
                        started_at=finished - dt.timedelta(minutes=generator.randrange(4, 25)),
                        finished_at=finished,
                        status=status,
                        first_commit_at=first_commit,
                        commits=[
                            {"sha": f"{generator.getrandbits(40):010x}", "committed_at": None}
                        ],
                        created_by=people.get("admin"),
                    )
                )
    created = Deployment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(created)


def link_demo_caused_incidents(services) -> None:
    for incident in Incident.objects.filter(title__in=CAUSED_INCIDENTS).prefetch_related(
        "services"
    ):
        if IncidentCause.objects.filter(incident=incident).exists():
            continue
        deployment = (
            Deployment.objects.filter(
                service__in=incident.services.all(),
                environment="production",
                started_at__lte=incident.started_at,
            )
            .order_by("-started_at")
            .first()
        )
        if deployment is not None:
            IncidentCause.objects.create(
                incident=incident, deployment=deployment, linked_at=incident.started_at
            )


def load_demo_gate_answers(now: dt.datetime, services, people) -> None:
    """A few answers of the gate for the service pages: an approved change going out, low-risk
    deploys (one of a service without a valid readiness review), and a service whose spent
    budget stops it."""
    if GateDecision.objects.exists():
        return
    # The gate reads the SLOs' snapshots, which the worker computes after the demo's data is
    # pushed: compute those still missing now, so that the answers recorded here see them.
    without_status = SLO.objects.filter(status__isnull=True).select_related("service")
    if without_status.exists():
        slo_statuses_recompute(now=now, slos=without_status)
    asker = people.get("admin")
    scheduled = ChangeRequest.objects.filter(title="Rotate the gateway's TLS certificates").first()
    if scheduled is not None:
        change = change_detail().get(pk=scheduled.pk)
        gate_evaluate(
            services=list(change.services.all()),
            category=C.STANDARD,
            change=change,
            by=asker,
            version="2026.4.0",
        )
    # Refunds' and Cart's answers name their missing readiness reviews (services.demo_readiness
    # approves the Payments API's only); Promotions is tier 3 and needs none.
    for slug in ("refunds", "cart", "promotions"):
        if slug in services:
            gate_evaluate(services=[services[slug]], category=C.LOW_RISK, change=None, by=asker)
    frozen = (
        SLOStatus.objects.filter(policy_tier="frozen")
        .select_related("slo__service")
        .order_by("slo__service__slug")
        .first()
    )
    if frozen is not None:
        gate_evaluate(
            services=[frozen.slo.service],
            category=C.LOW_RISK,
            change=None,
            by=asker,
            version="hotfix-1",
        )
