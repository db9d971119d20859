"""The SLO form shows only the fields that apply to the SLO being written."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # what UserFactory gives everyone


def test_slice_and_calendar_settings_show_only_when_they_apply(page, service, owner):
    page.goto("/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto(f"/services/{service.slug}/slos/add/")

    slice_length = page.get_by_label("Slice length (minutes)")
    time_zone = page.get_by_label("Time zone")
    rolling_days = page.get_by_label("Rolling window (days)")
    expect(slice_length).to_be_hidden()
    expect(time_zone).to_be_hidden()
    expect(rolling_days).to_be_visible()

    page.get_by_label("Budgeting method").select_option("timeslices")
    expect(slice_length).to_be_visible()
    expect(page.get_by_label("Slice target (%)")).to_be_visible()

    page.get_by_label("Window kind").select_option("calendar_month")
    expect(time_zone).to_be_visible()
    expect(rolling_days).to_be_hidden()
