"""Schemathesis over every operation of the API schema, against the live test server, as an
SRE lead and as a viewer: no 5xx, no answer the schema does not describe, no write by the
viewer that succeeds.

Fixed seed and a bounded number of examples per operation keep the run around a minute or
two; the figures (operations, requests, 5xx, schema violations) are printed at the end.
"""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api.tokens import token_create
from services.actions.readiness import review_request
from services.actions.scorecards import campaign_create, checks_recompute, exemption_request
from services.models.slos import SLO
from tests.incidents.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    TimelineEntryFactory,
)
from tests.toil.change_factories import change_records
from tests.toil.factories import ToilEntryFactory, ToilItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

#: Generated cases per operation, drawn from both modes, each sent as two people. At 16
#: this test took a sixth of the suite (100-150 s of about 13-15 minutes); 12 keeps both
#: modes on every operation and the suite within its 15 minutes on a slow day.
EXAMPLES_PER_OPERATION = 12
SEED = 20260309
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: A person's own settings (the digest choice, report subscriptions) are theirs to write,
#: whatever their role.
PERSONAL_PATHS = ("/api/me/", "/api/report-subscriptions/")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def records(service, owner, teammate):
    """Records of each kind, so that operations on one record meet real ones too."""
    slo = SLO.objects.create(
        service=service,
        name="Availability",
        slug="availability",
        objective=Decimal("99.5"),
        window_days=7,
        events_query='sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))',
        total_query="sum(rate(http_requests_total[{{.window}}]))",
    )
    incident = IncidentFactory(services=[service], commander=owner)
    postmortem = PostMortemFactory(incident=IncidentFactory(services=[service]), author=owner)
    review = review_request(service=service, by=owner)
    campaign = campaign_create(
        name="Tier 1 at Silver",
        slug="tier-1-at-silver",
        scorecard_key="service-maturity",
        target_level="Silver",
        tiers=[1],
        due_on=date.today() + timedelta(days=90),
    )
    exemption = exemption_request(
        service=service,
        scorecard_key="service-maturity",
        check_name="runbook_link",
        reason="The runbook moves to the new wiki next month.",
        expires_on=date.today() + timedelta(days=30),
        by=owner,
    )
    checks_recompute(service_ids=None, now=timezone.now())
    return {
        "readiness-reviews": review.pk,
        "item_id": review.items.first().pk,
        "exemptions": exemption.pk,
        "campaigns": campaign.slug,
        "scorecard-results": service.scorecard_results.first().pk,
        "readiness-checklists": review.checklist_id,
        "teams": service.owner_team.pk,  # /api/teams/{id}/toil/
        "teams:slug": service.owner_team.slug,
        "memberships": owner.memberships.get().pk,
        "services": service.slug,
        "slos": slo.pk,
        "incidents": incident.reference,
        "postmortems": postmortem.pk,
        "action-items": ActionItemFactory(postmortem=postmortem, owner=teammate).pk,
        "entry_id": TimelineEntryFactory(incident=incident, author=owner).pk,
        **change_records(service, owner, incident),
        "toil-items": ToilItemFactory(team=service.owner_team).pk,
        "toil-entries": ToilEntryFactory(
            item=ToilItemFactory(team=service.owner_team), user=owner
        ).pk,
    }


def real_path_parameters(path: str, records: dict) -> dict:
    parameters = {}
    if "{id}" in path and path.split("/")[2] in records:
        parameters["id"] = records[path.split("/")[2]]
    if "{slug}" in path and path.split("/")[2] in records:
        segment = path.split("/")[2]
        parameters["slug"] = records.get(f"{segment}:slug", records[segment])
    if "{reference}" in path and path.split("/")[2] in records:
        parameters["reference"] = records[path.split("/")[2]]
    if "{item_id}" in path:
        parameters["item_id"] = records["item_id"]
    if "{entry_id}" in path:
        parameters["entry_id"] = records["entry_id"]
    return parameters


def test_the_api_holds_to_its_schema_under_generated_input(
    live_server, sre_lead, viewer, records, settings, request
):
    # Thousands of requests in a minute: far more than the rate limits allow a user.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"},
    }
    tokens = {"sre_lead": token_create(user=sre_lead)[1], "viewer": token_create(user=viewer)[1]}
    raw = requests.get(
        f"{live_server.url}/api/schema/?format=json",
        headers={"Authorization": f"Token {tokens['sre_lead']}"},
        timeout=30,
    ).json()
    schema = schemathesis.openapi.from_dict(raw)
    figures = Counter()
    problems = []

    for result in schema.get_all_operations():
        operation = result.ok()
        figures["operations"] += 1
        fixed = real_path_parameters(operation.path, records)
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed or None),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @seed(SEED)
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def exercise(case):
            for who, token in tokens.items():
                response = case.call(
                    base_url=live_server.url,
                    headers={"Authorization": f"Token {token}"},
                )
                figures["requests"] += 1
                if response.status_code >= 500:
                    figures["5xx"] += 1
                if (
                    who == "viewer"
                    and case.method.upper() not in SAFE_METHODS
                    and not case.path.startswith(PERSONAL_PATHS)
                    and response.status_code < 300
                ):
                    figures["viewer writes"] += 1
                    problems.append(f"{case.method} {case.path}: the viewer's write succeeded")
                try:
                    case.validate_response(response, checks=CHECKS)
                except (AssertionError, BaseExceptionGroup) as failure:  # the failed checks
                    figures["violations"] += 1
                    problems.append(
                        f"{who} {case.method} {case.formatted_path} → "
                        f"{response.status_code}: {str(failure)[:600]}"
                    )

        exercise()

    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    reporter.write_line(
        f"\nschemathesis: {figures['operations']} operations, {figures['requests']} requests, "
        f"{figures['5xx']} 5xx, {figures['violations']} schema violations, "
        f"{figures['viewer writes']} successful viewer writes"
    )
    unique = list(dict.fromkeys(problems))
    assert unique == [], "\n\n".join(unique[:40])
