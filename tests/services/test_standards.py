"""Checklists and scorecards as versioned YAML: the defaults every installation starts with,
loading (command, admin upload, API), re-loading, and every kind of bad file refused with its
file, category and key named and nothing written."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from services.actions.readiness import review_request
from services.actions.standards import DEFAULTS_DIR, checklist_load, scorecard_load
from services.backstage.sources import Source
from services.models.readiness import ChecklistCriterion, ReadinessChecklist
from services.models.scorecards import Scorecard, ScorecardRule, ServiceChecksDirty
from services.standards import StandardError

pytestmark = pytest.mark.django_db

CHECKLIST = """\
checklist: production-readiness
title: Production readiness review
readiness_criteria:
  instrumentation:
    title: Instrumentation
    criteria:
      - key: slo-defined
        title: The service has an SLO
        guidance: "**Why**: budgets."
        check: slo_defined
      - key: tracing
        title: Requests are traced
        tiers: [1]
        required: false
  security:
    - key: tls
      title: Traffic is encrypted
"""

SCORECARD = """\
scorecard: service-maturity
title: Service maturity
levels: [Bronze, Silver]
rules:
  - {check: runbook_link, level: Bronze, weight: 2}
  - {check: slo_defined, level: Silver, title: Measured}
"""


def load(text, name="checklist.yaml"):
    return checklist_load(sources=[Source(name, text)])


def test_the_default_checklist_and_scorecard_are_there_from_the_migrations():
    checklist = ReadinessChecklist.objects.get(key="production-readiness")
    scorecard = Scorecard.objects.get(key="service-maturity")

    assert checklist.version == 1
    assert checklist.categories.count() == 8
    assert checklist.criteria.exclude(check_name="").count() >= 15
    assert [level.name for level in scorecard.levels.order_by("rank")] == [
        "Bronze",
        "Silver",
        "Gold",
    ]
    assert scorecard.rules.count() >= 20


def test_loading_the_shipped_defaults_again_changes_nothing():
    checklist = (DEFAULTS_DIR / "production-readiness-v1.yaml").read_text()
    scorecard = (DEFAULTS_DIR / "service-maturity-v1.yaml").read_text()

    assert [outcome.created for outcome in load(checklist)] == [False]
    assert [
        outcome.created for outcome in scorecard_load(sources=[Source("maturity.yaml", scorecard)])
    ] == [False]
    assert ReadinessChecklist.objects.count() == Scorecard.objects.count() == 1


def test_a_changed_checklist_becomes_the_next_version_and_reloading_it_changes_nothing():
    [outcome] = load(CHECKLIST)

    assert (outcome.key, outcome.version, outcome.created) == ("production-readiness", 2, True)
    newest = ReadinessChecklist.objects.get(key="production-readiness", version=2)
    criteria = {criterion.key: criterion for criterion in newest.criteria.all()}
    assert set(criteria) == {"slo-defined", "tracing", "tls"}
    assert criteria["slo-defined"].is_automatic and criteria["slo-defined"].tiers == [1, 2, 3]
    assert (criteria["tracing"].required, criteria["tracing"].tiers) == (False, [1])
    assert criteria["tls"].category.title == "Security"

    # Comments and spacing are not content.
    assert [outcome.created for outcome in load("# again\n" + CHECKLIST)] == [False]
    assert ReadinessChecklist.objects.filter(key="production-readiness").count() == 2


def test_a_review_keeps_the_version_it_started_with(service, owner):
    review = review_request(service=service, by=owner)
    load(CHECKLIST)

    review.refresh_from_db()
    assert review.checklist.version == 1
    assert (
        ReadinessChecklist.objects.filter(key="production-readiness").latest("version").version == 2
    )


def test_a_changed_scorecard_is_a_new_version_and_every_service_is_scored_again(
    service, django_capture_on_commit_callbacks
):
    ServiceChecksDirty.objects.all().delete()
    with django_capture_on_commit_callbacks() as callbacks:
        [outcome] = scorecard_load(sources=[Source("maturity.yaml", SCORECARD)])

    assert (outcome.version, outcome.created) == (2, True)
    rules = ScorecardRule.objects.filter(scorecard__version=2).order_by("position")
    assert [(rule.check_name, rule.title, rule.level.name, rule.weight) for rule in rules] == [
        ("runbook_link", "Runbook link", "Bronze", 2),
        ("slo_defined", "Measured", "Silver", 1),
    ]
    assert ServiceChecksDirty.objects.filter(service=service).exists()
    assert [callback.args[0].name for callback in callbacks] == [
        "services.tasks.recompute_dirty_checks"
    ]


BAD_CHECKLISTS = [
    ("checklist: [\n", "not valid YAML (line 2", "", ""),
    ("- a list\n", "the file holds no mapping of fields", "", ""),
    (
        CHECKLIST.replace("check: slo_defined", "check: slo_defind"),
        "unknown check “slo_defind”",
        "instrumentation",
        "slo-defined",
    ),
    (
        CHECKLIST.replace("key: tls", "key: tracing"),
        "duplicate key, first used in category “instrumentation”",
        "security",
        "tracing",
    ),
    (
        CHECKLIST.replace("        title: Requests are traced\n", ""),
        "title is missing",
        "instrumentation",
        "tracing",
    ),
    (
        CHECKLIST.replace("tiers: [1]", "tiers: [1, 4]"),
        "unknown tier “4”",
        "instrumentation",
        "tracing",
    ),
    (
        CHECKLIST.replace(
            "    title: Instrumentation\n", "    title: Instrumentation\n    title: Again\n"
        ),
        "duplicate key “title”",
        "",
        "",
    ),
    (
        CHECKLIST.replace("required: false", "required: maybe"),
        "required must be true or false",
        "instrumentation",
        "tracing",
    ),
    (
        CHECKLIST.replace("guidance:", "guidence:"),
        "unknown field guidence",
        "instrumentation",
        "slo-defined",
    ),
]


@pytest.mark.parametrize(("text", "message", "category", "key"), BAD_CHECKLISTS)
def test_a_bad_checklist_is_refused_naming_the_file_category_and_key(text, message, category, key):
    before = ChecklistCriterion.objects.count()

    with pytest.raises(StandardError) as refused:
        checklist_load(sources=[Source("good.yaml", CHECKLIST), Source("bad.yaml", text)])

    error = refused.value
    assert (error.source, error.category, error.key) == ("bad.yaml", category, key)
    assert message in str(error)
    assert str(error).startswith("bad.yaml")
    # The good file before it was not loaded either.
    assert ReadinessChecklist.objects.count() == 1
    assert ChecklistCriterion.objects.count() == before


@pytest.mark.parametrize(
    ("change", "message", "level", "key"),
    [
        (("check: runbook_link", "check: runbok"), "unknown check “runbok”", "Bronze", "runbok"),
        (
            ("level: Silver", "level: Platinum"),
            "unknown level “Platinum”",
            "Platinum",
            "slo_defined",
        ),
        (("weight: 2", "weight: 0"), "weight must be a whole number", "Bronze", "runbook_link"),
        (("check: slo_defined", "check: runbook_link"), "duplicate rule", "Silver", "runbook_link"),
        (("[Bronze, Silver]", "[Bronze, Bronze]"), "duplicate level", "Bronze", ""),
        (("title: Service maturity\n", ""), "title is missing", "", ""),
    ],
)
def test_a_bad_scorecard_is_refused_naming_the_file_level_and_rule(change, message, level, key):
    with pytest.raises(StandardError) as refused:
        scorecard_load(sources=[Source("maturity.yaml", SCORECARD.replace(*change))])

    assert (refused.value.category, refused.value.key) == (level, key)
    assert message in str(refused.value)
    assert Scorecard.objects.count() == 1


def test_the_load_checklist_command_prints_what_it_loaded(tmp_path):
    path = tmp_path / "prr.yaml"
    path.write_text(CHECKLIST)
    output = StringIO()

    call_command("load_checklist", str(path), stdout=output)
    call_command("load_checklist", str(path), stdout=output)

    assert output.getvalue().splitlines() == [
        f"{path}: production-readiness version 2 loaded",
        f"{path}: production-readiness unchanged (version 2)",
    ]


def test_the_load_scorecard_command_refuses_a_bad_file_with_nothing_loaded(tmp_path):
    path = tmp_path / "maturity.yaml"
    path.write_text(SCORECARD.replace("runbook_link", "nope"))

    with pytest.raises(CommandError, match=r"unknown check “nope”.*Nothing was loaded"):
        call_command("load_scorecard", str(path))
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("load_scorecard", str(tmp_path / "missing.yaml"))
    assert Scorecard.objects.count() == 1


def test_an_sre_lead_loads_a_checklist_in_the_admin(client_for, sre_lead):
    client = client_for(sre_lead)
    url = reverse("admin:services_readinesschecklist_load")
    assert (
        "Load files"
        in client.get(reverse("admin:services_readinesschecklist_changelist")).content.decode()
    )

    response = client.post(url, {"files": [SimpleUploadedFile("prr.yaml", CHECKLIST.encode())]})

    assert response.status_code == 302
    assert ReadinessChecklist.objects.filter(version=2).exists()


def test_a_bad_upload_in_the_admin_is_shown_and_loads_nothing(client_for, sre_lead):
    response = client_for(sre_lead).post(
        reverse("admin:services_scorecard_load"),
        {"files": [SimpleUploadedFile("m.yaml", SCORECARD.replace("Silver]", "Silver").encode())]},
    )

    assert response.status_code == 200
    assert "m.yaml: not valid YAML" in response.content.decode()
    assert Scorecard.objects.count() == 1


def test_only_sre_leads_reach_the_admin_upload(client_for, owner):
    response = client_for(owner).get(reverse("admin:services_readinesschecklist_load"))

    assert response.status_code == 302  # to the admin's sign-in: not staff


@pytest.mark.parametrize(
    ("path", "model"),
    [("/api/readiness-checklists/load/", ReadinessChecklist), ("/api/scorecards/load/", Scorecard)],
)
def test_an_sre_lead_loads_files_through_the_api_and_others_are_refused(
    path, model, api_client_for, sre_lead, owner
):
    text = CHECKLIST if model is ReadinessChecklist else SCORECARD

    refused = api_client_for(owner).post(path, text, content_type="application/yaml")
    loaded = api_client_for(sre_lead).post(path, text, content_type="application/yaml")
    bad = api_client_for(sre_lead).post(path, "key: [", content_type="application/yaml")

    assert refused.status_code == 403
    assert loaded.status_code == 200
    assert loaded.json() == [
        {
            "source": "request body",
            "key": model.objects.latest("pk").key,
            "version": 2,
            "created": True,
        }
    ]
    assert bad.status_code == 400
    assert bad.json()["detail"].endswith("Nothing was loaded.")


def test_the_api_lists_checklist_versions_with_their_criteria(api_client_for, viewer):
    load(CHECKLIST)

    response = api_client_for(viewer).get(
        "/api/readiness-checklists/", {"key": "production-readiness"}
    )

    assert response.status_code == 200
    versions = response.json()["results"]
    assert [version["version"] for version in versions] == [2, 1]
    newest = versions[0]["categories"]
    assert newest[0]["criteria"][0] == {
        "key": "slo-defined",
        "title": "The service has an SLO",
        "guidance": "**Why**: budgets.",
        "tiers": [1, 2, 3],
        "required": True,
        "check": "slo_defined",
        "judged": "automatic",
    }
