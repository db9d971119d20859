"""Every page fits a 390 px phone: nothing is wider than the screen (wide tables scroll inside
their card), and the navigation folds behind a menu button.

The pages are found rather than listed: starting from the home page, the SRE lead of the demo
organisation follows every link, and one address of each kind of page (each URL name) is
measured, so that pages added later are measured without anyone remembering to list them.
"""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import Resolver404, resolve
from django.utils import timezone
from playwright.sync_api import expect

from incidents.actions.postmortems import action_item_create, postmortem_start
from incidents.choices import ActionItemKind
from incidents.models.incidents import Incident
from portal.demo.load import load_demo_data
from portal.demo.people import ADMIN_USERNAME

pytestmark = pytest.mark.e2e

PASSWORD = "demo password for the layout test"
PHONE = {"width": 390, "height": 844}

# Not pages of the portal's own layout: the API (JSON and Swagger UI), Django's admin, files
# to download, and what signs out.
SKIPPED_PREFIXES = ("/api/", "/admin/", "/static/", "/logout/", "/metrics", "/healthz", "/readyz")
#: A generous bound on the kinds of pages, so that a crawl gone wrong ends.
MOST_PAGES = 250

# The widest elements, to say what runs off the screen when a page does not fit.
MEASURE = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0) {
      const name = element.tagName.toLowerCase()
        + (element.id ? "#" + element.id : "")
        + (element.className && typeof element.className === "string"
           ? "." + element.className.trim().split(/\\s+/).join(".") : "");
      wide.push(name + " (" + Math.round(box.right) + " px)");
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: width,
          wide: wide.slice(0, 4)};
}"""


@pytest.fixture
def demo_org(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    load_demo_data(password=PASSWORD, reset_passwords=True)
    # A post-mortem with an action item, so that their pages are measured too.
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    incident = Incident.objects.filter(resolved_at__isnull=False).earliest("started_at")
    postmortem = postmortem_start(incident=incident, by=admin)
    action_item_create(
        postmortem=postmortem,
        title="Alert on the payment provider's error rate before customers notice it",
        owner=admin,
        due_date=timezone.localdate() + dt.timedelta(days=7),
        kind=ActionItemKind.DETECT,
    )


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def page_kind(path):
    """The URL name of a path of the portal's own pages, or None for what is not one."""
    if path.startswith(SKIPPED_PREFIXES) or path.endswith((".csv", ".json", ".yaml", ".svg")):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if "export" in (match.url_name or "") or "download" in (match.url_name or ""):
        return None
    return match.view_name


def links_on(page, origin):
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" == origin:
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def test_every_kind_of_page_fits_a_390_px_phone(phone, demo_org, live_server):
    sign_in(phone, ADMIN_USERNAME)
    to_visit = ["/"]
    seen_kinds = {}
    too_wide = []
    failed = []
    while to_visit and len(seen_kinds) < MOST_PAGES:
        address = to_visit.pop(0)
        kind = page_kind(urlsplit(address).path)
        if kind is None or kind in seen_kinds:
            continue
        response = phone.goto(address)
        seen_kinds[kind] = address
        if response.status >= 500:
            failed.append(f"{address} ({kind}): {response.status}")
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        measured = phone.evaluate(MEASURE)
        if measured["scrollWidth"] > measured["width"]:
            too_wide.append(f"{address} ({kind}): {measured['scrollWidth']} px; {measured['wide']}")
        to_visit.extend(links_on(phone, live_server.url))

    # The crawl reached the portal's kinds of pages, not only the home page.
    for kind in ("service_detail", "slo_detail", "incident_detail", "postmortem_detail"):
        assert kind in seen_kinds, f"the crawl never reached a {kind} page"
    assert len(seen_kinds) > 40
    assert not failed, "Pages that failed:\n" + "\n".join(failed)
    assert not too_wide, "Pages wider than a 390 px screen:\n" + "\n".join(too_wide)


def test_the_navigation_folds_behind_a_menu_button_on_a_phone(phone, demo_org):
    sign_in(phone, ADMIN_USERNAME)
    navigation = phone.get_by_role("navigation", name="Main")
    menu = phone.get_by_role("button", name="Menu")
    expect(navigation).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(navigation.get_by_role("link", name="Incidents")).to_be_visible()
    navigation.get_by_role("link", name="Incidents").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Incidents")
    expect(navigation).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_error_pages_fit_a_phone_and_keep_the_navigation(phone, demo_org):
    sign_in(phone, ADMIN_USERNAME)
    response = phone.goto("/services/no-such-service/")
    assert response.status == 404
    expect(phone.get_by_role("button", name="Menu")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_viewer_refused_a_change_sees_who_may_make_it_and_the_navigation(phone, demo_org):
    sign_in(phone, "oliver")
    response = phone.goto("/services/payments-api/edit/")

    assert response.status == 403
    expect(phone.get_by_role("heading", level=1)).to_have_text("You cannot do this")
    expect(phone.get_by_text("Only the owning team's engineers and SRE leads")).to_be_visible()
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Service catalog")
