import io
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from services.backstage.entities import EntityRef, parse_sources
from services.backstage.importer import import_sources
from services.backstage.sources import BackstageImportError, Source, read_source
from services.choices import Lifecycle, MembershipRole, Tier
from services.management.commands.import_backstage import Command as ImportBackstageCommand
from services.models.catalog import Membership, Service, Tag, Team
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

SAMPLES = Path(__file__).parent / "backstage"
CATALOG = "catalog-info.yaml"


def sample(name: str) -> Source:
    """A sample file under the short name that messages and backstage_source then carry."""
    return Source(name=name, text=(SAMPLES / name).read_text())


def catalog_with(*replacements: tuple[str, str]) -> Source:
    """The example catalog, edited as a team would edit its file."""
    text = (SAMPLES / CATALOG).read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return Source(name=CATALOG, text=text)


def row_counts() -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "services": Service.objects.count(),
        "service history": Service.history.count(),
        "memberships": Membership.objects.count(),
        "tags": Tag.objects.count(),
        "dependencies": Service.depends_on.through.objects.count(),
    }


def one_document(body: str) -> Source:
    return Source(name="entity.yaml", text=body)


COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
spec:
  type: service
  lifecycle: production
  owner: payments
"""


@pytest.fixture
def people(db):
    """Portal accounts for some of the people the example catalog names (not nadia, ghost)."""
    return {name: UserFactory(username=name) for name in ("olivia", "tom")}


@pytest.fixture
def imported(people):
    return import_sources([sample(CATALOG)])


class TestEntityRefs:
    @pytest.mark.parametrize(
        "reference", ["team-a", "group:team-a", "group:default/team-a", "Group:Default/Team-A"]
    )
    def test_every_form_of_an_owner_reference_names_the_same_group(self, reference):
        assert str(EntityRef.parse(reference, default_kind="group")) == "group:default/team-a"

    def test_a_namespace_is_kept(self):
        ref = EntityRef.parse("component:billing/ledger", default_kind="component")
        assert ref == EntityRef("component", "billing", "ledger")


class TestParsing:
    @pytest.mark.parametrize(
        ("backstage_lifecycle", "lifecycle"),
        [
            ("production", Lifecycle.PRODUCTION),
            ("experimental", Lifecycle.EXPERIMENTAL),
            ("deprecated", Lifecycle.DEPRECATED),
            ("Deprecated", Lifecycle.DEPRECATED),
            ("development", Lifecycle.EXPERIMENTAL),
            ("beta", Lifecycle.EXPERIMENTAL),
        ],
    )
    def test_backstage_lifecycles_map_to_the_portals_three_stages(
        self, backstage_lifecycle, lifecycle
    ):
        text = COMPONENT.replace("lifecycle: production", f"lifecycle: {backstage_lifecycle}")
        catalog = parse_sources([one_document(text)])
        assert catalog.components[0].lifecycle == lifecycle

    def test_empty_documents_are_ignored_and_still_counted_in_positions(self):
        text = "---\n---\n" + COMPONENT.replace("  owner: payments\n", "")
        with pytest.raises(BackstageImportError) as error:
            parse_sources([one_document(text)])
        assert str(error.value) == (
            "entity.yaml, document 2 (Component payments-api): spec.owner is required"
        )

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "- just\n- a list\n",
                "entity.yaml, document 1: expected an entity (a mapping), got a list",
            ),
            (
                "kind: Component\nmetadata: {name: x}\n",
                "entity.yaml, document 1: apiVersion is required",
            ),
            (
                "apiVersion: backstage.io/v1alpha1\nmetadata: {name: x}\n",
                "entity.yaml, document 1: kind is required",
            ),
            (
                COMPONENT.replace("backstage.io/v1alpha1", "backstage.io/v2"),
                'entity.yaml, document 1 (Component payments-api): apiVersion "backstage.io/v2" '
                "is not one of backstage.io/v1alpha1, backstage.io/v1beta1",
            ),
            (
                COMPONENT.replace("name: payments-api", "name: payments api"),
                'entity.yaml, document 1 (Component payments api): metadata.name "payments api" '
                "is not a Backstage entity name (letters and digits separated by -, _ or .)",
            ),
            (
                COMPONENT.replace("metadata:\n  name: payments-api\n", "metadata: payments-api\n"),
                "entity.yaml, document 1 (Component): metadata must be a mapping",
            ),
            (
                COMPONENT.replace("  type: service\n", ""),
                "entity.yaml, document 1 (Component payments-api): spec.type is required",
            ),
            (
                COMPONENT + "  dependsOn: component:ledger\n",
                "entity.yaml, document 1 (Component payments-api): spec.dependsOn must be a list",
            ),
            (
                COMPONENT + "  dependsOn: [component:payments-api]\n",
                "entity.yaml, document 1 (Component payments-api): "
                "spec.dependsOn names the component itself",
            ),
            (
                COMPONENT.replace(
                    "metadata:\n",
                    "metadata:\n  links:\n    - url: not a url\n      title: Runbook\n",
                ),
                "entity.yaml, document 1 (Component payments-api): "
                'metadata.links[0].url "not a url" is not an http(s) URL',
            ),
            (
                COMPONENT.replace(
                    "metadata:\n", 'metadata:\n  annotations:\n    reliability-portal/tier: "4"\n'
                ),
                "entity.yaml, document 1 (Component payments-api): "
                'metadata.annotations.reliability-portal/tier "4" must be 1, 2 or 3',
            ),
            (
                COMPONENT + "---\n" + COMPONENT.replace("payments-api", "Payments-API"),
                'entity.yaml, document 2 (Component Payments-API): metadata.name "Payments-API" '
                "is also used by entity.yaml, document 1 (Component payments-api)",
            ),
        ],
    )
    def test_a_document_that_is_not_a_valid_entity_is_reported_by_field(self, text, message):
        with pytest.raises(BackstageImportError) as error:
            parse_sources([one_document(text)])
        assert str(error.value) == message

    def test_a_dependency_listed_in_several_forms_is_one_dependency(self):
        text = COMPONENT + "  dependsOn: [ledger, component:ledger, Component:default/Ledger]\n"
        catalog = parse_sources([one_document(text)])
        assert catalog.components[0].depends_on == (EntityRef("component", "default", "ledger"),)

    def test_kinds_that_are_not_imported_need_no_backstage_io_api_version(self):
        catalog = parse_sources([sample(CATALOG)])
        assert catalog.skipped_kinds["Template"] == 1
        assert catalog.unknown_kinds == {"Pipeline": 1}


class TestImport:
    def test_groups_become_teams(self, imported):
        payments = Team.objects.get(slug="payments")
        assert payments.name == "Payments"
        assert payments.description == "Takes the money and keeps the ledger straight."
        assert payments.email == "payments@example.test"
        assert payments.backstage_ref == "group:default/payments"
        platform = Team.objects.get(slug="platform")
        assert (platform.name, platform.email) == ("Platform", "platform@example.test")

    def test_group_members_and_users_become_memberships_of_existing_people_only(
        self, imported, people
    ):
        memberships = set(Membership.objects.values_list("user__username", "team__slug", "role"))
        assert memberships == {
            ("olivia", "payments", MembershipRole.ENGINEER),
            ("tom", "payments", MembershipRole.ENGINEER),
            ("tom", "platform", MembershipRole.ENGINEER),
        }
        assert imported.unknown_users == ["ghost", "nadia"]

    def test_components_become_services_with_their_links_and_annotations(self, imported):
        payments_api = Service.objects.get(slug="payments-api")
        assert payments_api.name == "Payments API"
        assert payments_api.description == "Takes card payments and refunds."
        assert payments_api.owner_team.slug == "payments"
        assert payments_api.lifecycle == Lifecycle.PRODUCTION
        assert payments_api.kind == "service"
        assert payments_api.system == "checkout"
        assert payments_api.tier == Tier.TIER_1
        assert payments_api.repository_url == "https://github.com/example/payments-api"
        assert payments_api.runbook_url == "https://runbooks.example.test/payments-api"
        assert payments_api.dashboard_url == "https://grafana.example.test/d/payments-api"
        assert payments_api.oncall_url == "https://example.pagerduty.com/schedules/P123"
        assert payments_api.pagerduty_service_id == "PX12345"
        assert payments_api.backstage_ref == "component:default/payments-api"
        assert payments_api.backstage_source == CATALOG
        assert sorted(payments_api.tags.values_list("name", flat=True)) == [
            "pci",
            "python",
            "system:checkout",
        ]

    def test_location_annotations_and_links_fill_what_the_component_has(self, imported):
        ledger = Service.objects.get(slug="ledger")
        assert ledger.owner_team.slug == "platform"
        assert ledger.lifecycle == Lifecycle.EXPERIMENTAL  # "development" is not production
        assert ledger.tier == Tier.TIER_2  # no tier annotation: the default
        assert ledger.system == "checkout"
        assert ledger.repository_url == "https://git.example.test/payments/ledger/"
        assert ledger.runbook_url == "https://docs.example.test/ledger"
        assert ledger.dashboard_url == ledger.oncall_url == ledger.pagerduty_service_id == ""
        checkout_web = Service.objects.get(slug="checkout-web")
        assert checkout_web.repository_url == "https://github.com/example/checkout-web"
        assert checkout_web.kind == "website"

    def test_depends_on_links_components_and_reports_unknown_ones(self, imported):
        dependencies = set(
            Service.depends_on.through.objects.values_list("from_service__slug", "to_service__slug")
        )
        assert dependencies == {("payments-api", "ledger"), ("checkout-web", "payments-api")}
        assert imported.unknown_dependencies == [
            "component:default/ledger → component:default/fraud-scoring"
        ]

    def test_a_system_becomes_the_tag_its_components_carry(self, imported):
        tag = Tag.objects.get(name="system:checkout")
        assert set(tag.services.values_list("slug", flat=True)) == {
            "payments-api",
            "ledger",
            "checkout-web",
        }

    def test_the_report_counts_what_was_imported_and_what_was_skipped(self, imported):
        assert imported.summary_lines() == [
            "Teams: 2 created, 0 updated, 0 unchanged",
            "Services: 3 created, 0 updated, 0 unchanged",
            "Memberships added: 3",
            "Dependencies set: 2 (2 on resources or APIs ignored)",
            "Skipped, not services: API 1, Location 1, Resource 1, Template 1",
            "Skipped, unknown kinds: Pipeline 1",
            "Users without a portal account: ghost, nadia",
            "Groups matching no team: group:default/sre",
            "Dependencies on unknown components: "
            "component:default/ledger → component:default/fraud-scoring",
        ]
        assert imported.missing == []

    def test_importing_the_same_file_again_changes_and_duplicates_nothing(self, imported):
        before = row_counts()
        report = import_sources([sample(CATALOG)])
        assert row_counts() == before
        assert report.summary_lines()[:4] == [
            "Teams: 0 created, 0 updated, 2 unchanged",
            "Services: 0 created, 0 updated, 3 unchanged",
            "Memberships added: 0",
            "Dependencies set: 2 (2 on resources or APIs ignored)",
        ]

    def test_a_changed_file_updates_the_fields_it_states(self, imported):
        report = import_sources(
            [
                catalog_with(
                    ("title: Payments API", "title: Card Payments"),
                    (
                        "lifecycle: production\n  owner: group:default/payments",
                        "lifecycle: deprecated\n  owner: platform",
                    ),
                    ("tags: [python, pci]", "tags: [python, card-payments]"),
                    ('reliability-portal/tier: "1"', 'reliability-portal/tier: "3"'),
                    ("    - component:ledger\n", ""),
                )
            ]
        )
        payments_api = Service.objects.get(slug="payments-api")
        assert payments_api.name == "Card Payments"
        assert payments_api.lifecycle == Lifecycle.DEPRECATED
        assert payments_api.owner_team.slug == "platform"
        assert payments_api.tier == Tier.TIER_3
        assert sorted(payments_api.tags.values_list("name", flat=True)) == [
            "card-payments",
            "python",
            "system:checkout",
        ]
        assert not payments_api.depends_on.exists()
        assert report.services_updated == 1
        assert report.services_unchanged == 2

    def test_fields_the_file_leaves_out_keep_the_values_entered_in_the_portal(self, imported):
        ledger = Service.objects.get(slug="ledger")
        ledger.dashboard_url = "https://grafana.example.test/d/ledger"
        ledger.tier = Tier.TIER_1
        ledger.save()
        Team.objects.filter(slug="payments").update(email="money@example.test")

        import_sources([catalog_with(("    email: payments@example.test\n", ""))])

        ledger.refresh_from_db()
        assert ledger.dashboard_url == "https://grafana.example.test/d/ledger"
        assert ledger.tier == Tier.TIER_1
        assert Team.objects.get(slug="payments").email == "money@example.test"

    def test_a_component_removed_from_the_file_is_reported_missing_and_kept(self, imported):
        text = (SAMPLES / CATALOG).read_text()
        start = text.index("kind: Component\nmetadata:\n  name: checkout-web")
        end = text.index("---", start)
        without_checkout_web = (
            text[:start] + "kind: Location\nmetadata:\n  name: gone\n" + text[end:]
        )

        report = import_sources([Source(name=CATALOG, text=without_checkout_web)])

        assert report.missing == ["component:default/checkout-web"]
        assert (
            "No longer in these sources (kept, not deleted): component:default/checkout-web"
            in report.summary_lines()
        )
        assert Service.objects.filter(slug="checkout-web").exists()

    def test_components_imported_from_other_sources_are_not_reported_missing(self, imported):
        report = import_sources([sample("search.yaml")])
        assert report.missing == []

    def test_records_made_in_the_portal_are_adopted_by_slug_not_duplicated(self, people, payments):
        existing = ServiceFactory(slug="ledger", owner_team=payments, tier=Tier.TIER_1)

        report = import_sources([sample(CATALOG)])

        assert Team.objects.filter(slug="payments").get().backstage_ref == "group:default/payments"
        existing.refresh_from_db()
        assert existing.backstage_ref == "component:default/ledger"
        assert existing.owner_team.slug == "platform"
        assert existing.tier == Tier.TIER_1
        assert (report.teams_created, report.teams_updated) == (1, 1)
        assert (report.services_created, report.services_updated) == (2, 1)

    def test_a_record_imported_from_another_entity_is_not_taken_over(self, imported):
        other_namespace = catalog_with(
            ("  name: ledger\n", "  name: ledger\n  namespace: finance\n")
        )
        before = row_counts()
        with pytest.raises(BackstageImportError) as error:
            import_sources([other_namespace])
        assert str(error.value) == (
            'catalog-info.yaml, document 7 (Component ledger): metadata.name: the service "ledger" '
            "was imported from component:default/ledger"
        )
        assert row_counts() == before

    def test_existing_memberships_keep_their_role(self, people, payments):
        MembershipFactory(user=people["olivia"], team=payments, role=MembershipRole.VIEWER)
        report = import_sources([sample(CATALOG)])
        assert Membership.objects.get(user=people["olivia"], team=payments).role == "viewer"
        assert report.memberships_added == 2

    def test_an_owner_may_be_a_team_that_exists_only_in_the_portal(self, search_team):
        report = import_sources([one_document(COMPONENT.replace("payments", "search"))])
        assert Service.objects.get(slug="search-api").owner_team == search_team
        assert report.teams_created == 0

    def test_several_files_are_imported_in_one_call(self, people):
        UserFactory(username="oscar")
        report = import_sources([sample(CATALOG), sample("search.yaml")])

        search_api = Service.objects.get(slug="search-api")
        assert search_api.owner_team.slug == "search"
        assert search_api.backstage_source == "search.yaml"
        assert list(search_api.depends_on.values_list("slug", flat=True)) == ["payments-api"]
        assert Service.objects.get(slug="payments-api").backstage_source == CATALOG
        assert (report.teams_created, report.services_created) == (3, 4)
        assert report.memberships_added == 4


class TestErrorsWriteNothing:
    @pytest.mark.parametrize(
        ("file_name", "message"),
        [
            (
                "malformed.yaml",
                "malformed.yaml, document 2, line 13: malformed YAML: "
                "expected ',' or ']', but got ':'",
            ),
            (
                "missing-name.yaml",
                "missing-name.yaml, document 2 (Component): metadata.name is required",
            ),
            (
                "missing-owner.yaml",
                "missing-owner.yaml, document 3 (Component billing-api): spec.owner is required",
            ),
            (
                "unknown-owner.yaml",
                "unknown-owner.yaml, document 2 (Component billing-api): "
                'spec.owner "group:default/treasury" matches no Group in this import '
                "and no team in the catalog",
            ),
        ],
    )
    def test_a_bad_file_stops_the_import_with_a_message_naming_file_document_and_field(
        self, people, file_name, message
    ):
        before = row_counts()
        with pytest.raises(BackstageImportError) as error:
            import_sources([sample(CATALOG), sample(file_name)])
        assert str(error.value) == message
        assert row_counts() == before

    def test_an_error_found_while_writing_rolls_back_everything_written_before_it(self, people):
        TeamFactory(name="Platform", slug="platform-team")  # the name the second Group wants
        before = row_counts()
        with pytest.raises(BackstageImportError) as error:
            import_sources([sample(CATALOG)])
        assert str(error.value) == (
            "catalog-info.yaml, document 2 (Group platform): "
            "name: Team with this Name already exists."
        )
        assert row_counts() == before
        assert not Team.objects.filter(slug="payments").exists()


class TestReadingSources:
    @pytest.fixture
    def catalog_server(self):
        """Serves the sample files over HTTP on loopback, for the length of one test."""

        class QuietHandler(SimpleHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=SAMPLES))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        server.server_close()
        thread.join()

    def test_a_catalog_is_read_from_a_url(self, catalog_server, people):
        url = f"{catalog_server}/{CATALOG}"
        source = read_source(url)
        assert source == Source(name=url, text=(SAMPLES / CATALOG).read_text())

        import_sources([source])
        assert Service.objects.get(slug="ledger").backstage_source == url

    def test_a_url_that_fails_is_an_error_naming_it(self, catalog_server):
        url = f"{catalog_server}/nowhere.yaml"
        with pytest.raises(BackstageImportError) as error:
            read_source(url)
        assert str(error.value) == f"{url}: cannot fetch it: HTTP Error 404: File not found"

    def test_a_file_that_cannot_be_read_is_an_error_naming_it(self, tmp_path):
        path = str(tmp_path / "absent.yaml")
        with pytest.raises(BackstageImportError) as error:
            read_source(path)
        assert str(error.value) == f"{path}: cannot read it: No such file or directory"

    def test_a_file_is_read_under_the_name_it_was_given(self):
        path = str(SAMPLES / "search.yaml")
        assert read_source(path) == Source(name=path, text=(SAMPLES / "search.yaml").read_text())


class TestImportBackstageCommand:
    def test_the_command_prints_the_report(self, people):
        out = io.StringIO()
        call_command(
            "import_backstage", str(SAMPLES / CATALOG), str(SAMPLES / "search.yaml"), stdout=out
        )
        lines = out.getvalue().splitlines()
        assert lines[:2] == [
            "Teams: 3 created, 0 updated, 0 unchanged",
            "Services: 4 created, 0 updated, 0 unchanged",
        ]
        assert "Skipped, unknown kinds: Pipeline 1" in lines

    def test_the_command_raises_a_command_error_and_writes_nothing(self, people):
        path = str(SAMPLES / "missing-owner.yaml")
        before = row_counts()
        with pytest.raises(CommandError) as error:
            call_command("import_backstage", str(SAMPLES / CATALOG), path)
        assert str(error.value) == (
            f"{path}, document 3 (Component billing-api): spec.owner is required. "
            "Nothing was imported."
        )
        assert row_counts() == before

    @pytest.mark.django_db(transaction=True)
    def test_the_command_exits_non_zero_with_the_message_on_stderr(self):
        stdout, stderr = io.StringIO(), io.StringIO()
        command = ImportBackstageCommand(stdout=stdout, stderr=stderr)
        path = str(SAMPLES / "malformed.yaml")
        with pytest.raises(SystemExit) as exit:
            command.run_from_argv(["manage.py", "import_backstage", path])
        assert exit.value.code == 1
        assert stderr.getvalue().startswith(f"CommandError: {path}, document 2, line 13:")
        assert stdout.getvalue() == ""
        assert not Team.objects.exists()
