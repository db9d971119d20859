import stat
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from portal.demo.password import PASSWORD_FILE_NAME
from portal.roles import is_sre_lead
from services.choices import Lifecycle, MembershipRole, SLISource
from services.models.catalog import Membership, Service, Tag, Team
from services.models.slos import SLO, SLIBucket, SLIRollup
from services.tasks import push_demo_sli_data


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def load(url="http://127.0.0.1:8000/") -> str:
    output = StringIO()
    call_command("load_demo_data", url=url, stdout=output)
    return output.getvalue()


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (get_user_model(), Team, Membership, Service, Tag, Service.depends_on.through)
    }


@pytest.mark.django_db
def test_the_demo_password_is_generated_once_and_readable_by_its_owner_only(var_dir):
    first = load()
    password_file = var_dir / PASSWORD_FILE_NAME
    password = password_file.read_text().strip()
    assert len(password) >= 16
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert f"Password:           {password}" in first
    assert password in load()
    assert password_file.read_text().strip() == password


@pytest.mark.django_db
def test_the_printout_names_the_url_and_the_admin(var_dir):
    output = load(url="http://127.0.0.1:8123/")
    assert "http://127.0.0.1:8123/" in output
    assert "Username:           admin" in output


@pytest.mark.django_db
def test_loading_twice_duplicates_nothing(var_dir):
    load()
    after_first = counts()
    output = load()
    assert counts() == after_first
    assert "0 teams, 0 services and 0 people added" in output


@pytest.mark.django_db
def test_the_admin_password_is_restored_to_the_printed_one(var_dir):
    load()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed in the meantime")
    admin.save()
    load()
    admin.refresh_from_db()
    assert admin.check_password((var_dir / PASSWORD_FILE_NAME).read_text().strip())


@pytest.mark.django_db
def test_a_new_password_file_resets_the_demo_people(var_dir):
    load()
    (var_dir / PASSWORD_FILE_NAME).unlink()
    load()
    password = (var_dir / PASSWORD_FILE_NAME).read_text().strip()
    assert get_user_model().objects.get(username="marco").check_password(password)


@pytest.mark.django_db
class TestTheLoadedDemo:
    """What one load of the demo holds (read by each test, loaded once)."""

    def test_the_admin_is_a_staff_sre_lead_who_signs_in_with_the_generated_password(
        self, loaded_demo
    ):
        password = (loaded_demo.var_dir / PASSWORD_FILE_NAME).read_text().strip()
        admin = get_user_model().objects.get(username="admin")
        assert admin.is_staff
        assert not admin.is_superuser
        assert is_sre_lead(admin)
        assert admin.check_password(password)

    def test_the_other_demo_people_sign_in_with_the_same_password(self, loaded_demo, client):
        password = (loaded_demo.var_dir / PASSWORD_FILE_NAME).read_text().strip()
        # Through the sign-in page: django-axes checks every sign-in against its request.
        response = client.post("/login/", {"username": "priya", "password": password})
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(
            get_user_model().objects.get(username="priya").pk
        )
        assert not is_sre_lead(get_user_model().objects.get(username="priya"))

    def test_the_demo_organisation_has_managed_teams_with_engineers_and_viewers(self, loaded_demo):
        teams = Team.objects.all()
        assert len(teams) >= 5
        for team in teams:
            assert team.manager is not None
            assert team.memberships.filter(user=team.manager, role=MembershipRole.ENGINEER).exists()
        roles = set(Membership.objects.values_list("role", flat=True))
        assert roles == {MembershipRole.ENGINEER, MembershipRole.VIEWER}

    def test_the_demo_catalog_is_varied_and_valid(self, loaded_demo):
        services = list(Service.objects.prefetch_related("tags", "depends_on"))
        assert 18 <= len(services) <= 25
        assert {service.tier for service in services} == {1, 2, 3}
        assert {service.lifecycle for service in services} == set(Lifecycle.values)
        assert sum(bool(service.depends_on.all()) for service in services) >= 10
        assert all(service.tags.all() for service in services)
        assert all(service.repository_url and service.runbook_url for service in services)
        personal = [service for service in services if service.handles_personal_data]
        assert len(personal) >= 3
        assert all(service.data_retention_days for service in personal)
        for service in services:
            service.full_clean()


@pytest.mark.django_db
def test_edits_to_demo_services_survive_a_reload(var_dir):
    load()
    Service.objects.filter(slug="cart").update(description="Edited by hand.")
    Service.objects.get(slug="promotions").delete()
    load()
    assert Service.objects.get(slug="cart").description == "Edited by hand."
    assert Service.objects.filter(slug="promotions").exists()


@pytest.mark.django_db
def test_demo_slos_are_fed_by_pushes_that_beat_keeps_coming(var_dir, time_machine):
    time_machine.move_to(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), tick=False)
    load()
    load()
    slos = SLO.objects.all()
    assert slos and {slo.source for slo in slos} == {SLISource.PUSH}
    schedule = PeriodicTask.objects.get(task="services.tasks.push_demo_sli_data")
    assert (schedule.interval.every, schedule.interval.period) == (5, "minutes")
    newest = SLIBucket.objects.filter(slo__slug="checkout-availability").latest("start").start

    time_machine.move_to(datetime(2026, 11, 2, 9, 30, tzinfo=UTC), tick=False)
    push_demo_sli_data()

    pushed = SLIBucket.objects.filter(slo__slug="checkout-availability", start__gt=newest)
    assert pushed.count() == 6
    assert SLIRollup.objects.filter(slo__slug="checkout-availability", start__gt=newest).exists()


@pytest.mark.django_db
def test_the_demo_has_last_months_reports_ready_and_unsent(var_dir):
    from portal.reports.models import MonthlyReport, ReportDelivery

    load()
    load()  # generated once: the second load finds them done
    reports = MonthlyReport.objects.select_related("team")
    assert {(report.team.slug if report.team else None) for report in reports} == {
        None,
        "payments",
    }
    assert {report.status for report in reports} == {"ready"}
    assert all("SLO performance" in report.html for report in reports)
    assert not ReportDelivery.objects.exists()
