"""The home page's "what needs attention" blocks: what each shows to whom, its empty state and
its link to the list, the block registry, and a constant number of queries."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from incidents.choices import ActionItemStatus, IncidentStatus, PostMortemStatus, Severity
from portal.home import blocks
from services.actions import readiness as readiness_actions
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.incidents.factories import ActionItemFactory, IncidentFactory, PostMortemFactory
from tests.services.readiness_data import answer_everything
from tests.services.slo_data import make_slo, make_status

pytestmark = pytest.mark.django_db


def block_html(response, section: str, key: str) -> str:
    """The markup of one block of the page (fails the test when the block is absent)."""
    marker = f'id="block-{section}-{key}"'
    assert marker in response.text, f"no block {section}/{key}"
    return response.text.split(marker, 1)[1].split("</section>", 1)[0]


def home(client_for, user):
    return client_for(user).get(reverse("home"))


# --- incidents ---------------------------------------------------------------------------------


def test_a_live_sev2_on_the_persons_team_is_the_first_thing_on_their_home(
    client_for, owner, service
):
    IncidentFactory(services=[service], severity=Severity.SEV3, title="Slow receipts")
    live = IncidentFactory(services=[service], severity=Severity.SEV2, title="Card payments fail")
    response = home(client_for, owner)
    first_block = response.text.split('class="card attention-block', 1)[1]
    assert first_block.startswith(' needs-attention" id="block-you-incidents"')
    incidents = block_html(response, "you", "incidents")
    assert incidents.index("Card payments fail") < incidents.index("Slow receipts")
    assertContains(response, f'<a href="{live.get_absolute_url()}">{live.reference} ')
    assert "Payments (your team)" in incidents
    assert '<span class="badge severity-sev2">SEV2</span>' in incidents


def test_everyone_sees_every_open_sev1_and_sev2_but_only_their_teams_lesser_incidents(
    client_for, outsider, service
):
    IncidentFactory(services=[service], severity=Severity.SEV1, title="Everything is down")
    IncidentFactory(services=[service], severity=Severity.SEV3, title="A slow page")
    IncidentFactory(
        services=[service],
        severity=Severity.SEV1,
        title="Yesterday's outage",
        status=IncidentStatus.RESOLVED,
        resolved_at=timezone.now(),
    )
    incidents = block_html(home(client_for, outsider), "you", "incidents")
    assert "Everything is down" in incidents
    assert "A slow page" not in incidents
    assert "Yesterday&#x27;s outage" not in incidents and "Yesterday's outage" not in incidents


def test_an_incident_affecting_a_service_of_the_persons_team_is_theirs_too(
    client_for, outsider, service, search_team
):
    search_service = ServiceFactory(owner_team=search_team)
    IncidentFactory(services=[service, search_service], title="Shared cache evicts", team=None)
    assert "Shared cache evicts" in block_html(home(client_for, outsider), "you", "incidents")


def test_an_empty_block_says_nothing_needs_attention_and_links_to_its_list(client_for, owner):
    incidents = block_html(home(client_for, owner), "you", "incidents")
    assert "Nothing needs attention." in incidents
    assert f'<a href="{reverse("incident_list")}?open=true">Open the list</a>' in incidents


def test_a_block_with_more_rows_than_it_shows_says_so_and_links_to_all(client_for, owner, service):
    for number in range(blocks.ROWS_PER_BLOCK + 2):
        IncidentFactory(services=[service], title=f"Outage {number}")
    incidents = block_html(home(client_for, owner), "you", "incidents")
    assert incidents.count("<li") == blocks.ROWS_PER_BLOCK
    assert f"{blocks.ROWS_PER_BLOCK}+</span>" in incidents
    assert "See all of them" in incidents


# --- SLOs --------------------------------------------------------------------------------------


def test_the_teams_slos_that_page_burn_or_are_stale_are_listed_paging_first(
    client_for, owner, service, search_team
):
    make_status(make_slo(service, 1, name="Latency"), alert="ticket", remaining=0.2)
    make_status(make_slo(service, 2, name="Checkout"), alert="page", remaining=0.5)
    make_status(make_slo(service, 3, name="Refunds"), stale=True)
    make_status(make_slo(service, 4, name="Healthy one"))
    elsewhere = ServiceFactory(owner_team=search_team)
    make_status(make_slo(elsewhere, 5, name="Search paging"), alert="page")
    slos = block_html(home(client_for, owner), "teams", "team_slos")
    assert slos.index("Checkout") < slos.index("Latency")
    assert "Refunds" in slos and "Stale data" in slos
    assert "Healthy one" not in slos and "Search paging" not in slos
    assert '<span class="badge alert-page">Paging</span>' in slos
    assert "20.0 % of the error budget left" in slos
    assert f"{reverse('slo_list')}?team=payments&amp;ordering=budget" in slos


def test_someone_without_a_team_sees_no_team_blocks(client_for, db):
    response = home(client_for, UserFactory(username="newcomer"))
    assertNotContains(response, 'id="block-teams-')
    assertContains(response, 'id="block-you-incidents"')


# --- post-mortems and action items -----------------------------------------------------------


def test_a_post_mortem_awaiting_the_persons_review_is_listed_for_them(
    client_for, owner, teammate, service
):
    postmortem = PostMortemFactory(
        incident=IncidentFactory(services=[service], title="Ledger drift"),
        status=PostMortemStatus.IN_REVIEW,
        author=owner,
    )
    postmortem.reviewers.set([teammate])
    assert "Ledger drift" in block_html(home(client_for, teammate), "you", "postmortems")
    assert "Ledger drift" not in block_html(home(client_for, owner), "you", "postmortems")


def test_a_post_mortem_past_due_is_listed_for_its_author_and_for_its_team(
    client_for, owner, teammate, outsider, service
):
    PostMortemFactory(
        incident=IncidentFactory(services=[service], title="Webhook storm"),
        author=owner,
        due_at=timezone.now() - dt.timedelta(hours=3),
    )
    assert "Webhook storm" in block_html(home(client_for, owner), "you", "postmortems")
    team_block = block_html(home(client_for, teammate), "teams", "team_postmortems")
    assert "Webhook storm" in team_block and 'class="late"' in team_block
    assert "Webhook storm" not in block_html(home(client_for, teammate), "you", "postmortems")
    assert "Webhook storm" not in home(client_for, outsider).text


def test_the_persons_overdue_and_due_soon_action_items_are_theirs_and_later_ones_wait(
    client_for, owner, service
):
    postmortem = PostMortemFactory(incident=IncidentFactory(services=[service]))
    today = timezone.localdate()
    overdue = ActionItemFactory(
        postmortem=postmortem, owner=owner, title="Add a retry", due_date=today - dt.timedelta(2)
    )
    ActionItemFactory(postmortem=postmortem, owner=owner, title="Alert on lag", due_date=today)
    ActionItemFactory(
        postmortem=postmortem, owner=owner, title="Rewrite it", due_date=today + dt.timedelta(30)
    )
    ActionItemFactory(
        postmortem=postmortem,
        owner=owner,
        title="Already done",
        due_date=today - dt.timedelta(5),
        status=ActionItemStatus.DONE,
    )
    items = block_html(home(client_for, owner), "you", "action_items")
    assert items.index("Add a retry") < items.index("Alert on lag")
    assert "Rewrite it" not in items and "Already done" not in items
    assert f"postmortem/#action-item-{overdue.pk}" in items
    assert '<span class="badge overdue">Overdue</span>' in items


def test_the_teams_overdue_action_items_name_their_owners(client_for, owner, teammate, service):
    ActionItemFactory(
        postmortem=PostMortemFactory(incident=IncidentFactory(services=[service])),
        owner=teammate,
        title="Rotate the keys",
        due_date=timezone.localdate() - dt.timedelta(days=1),
    )
    items = block_html(home(client_for, owner), "teams", "team_action_items")
    assert "Rotate the keys" in items and "Tom Teammate" in items
    assert f"{reverse('action_item_list')}?overdue=true&amp;team=payments" in items


# --- readiness reviews --------------------------------------------------------------------------


def test_a_readiness_review_awaiting_the_person_is_listed_for_them(
    client_for, owner, sre_lead, service
):
    review = readiness_actions.review_request(service=service, by=owner)
    answer_everything(review, owner)
    readiness_actions.review_submit(review=review, by=owner, reviewer=sre_lead)
    reviews = block_html(home(client_for, sre_lead), "you", "reviews")
    assert review.get_absolute_url() in reviews
    assert "Nothing needs attention." in block_html(home(client_for, owner), "you", "reviews")


# --- SRE leads ---------------------------------------------------------------------------------


def test_a_change_awaiting_the_persons_approval_is_listed_for_them_not_its_author(
    client_for, owner, service
):
    from tests.toil.change_factories import ChangeFactory, make_change_approver
    from toil.choices.changes import ChangeStatus

    approver = make_change_approver(UserFactory(username="cara"))
    make_change_approver(owner)
    change = ChangeFactory(
        services=[service],
        author=owner,
        title="Rotate the signing keys",
        status=ChangeStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )
    listed = block_html(home(client_for, approver), "you", "changes")
    assert f"#{change.pk} Rotate the signing keys" in listed
    assert f'href="/changes/{change.pk}/"' in listed
    assert "Standard" in listed
    mine = block_html(home(client_for, owner), "you", "changes")
    assert "Rotate the signing keys" not in mine and "Nothing needs attention." in mine


def test_an_implemented_emergency_is_dated_by_when_its_approval_closes_not_late_at_once(
    client_for, sre_lead, owner, service
):
    import datetime as dt

    from incidents.choices import Severity
    from tests.incidents.factories import IncidentFactory
    from tests.toil.change_factories import ChangeFactory
    from toil.choices.changes import ChangeStatus

    implemented = timezone.now() - dt.timedelta(hours=2)
    ChangeFactory(
        services=[service],
        author=owner,
        title="Roll back the cache",
        category="emergency",
        incident=IncidentFactory(services=[service], severity=Severity.SEV1),
        status=ChangeStatus.IN_PROGRESS,
        window_start=implemented - dt.timedelta(minutes=5),
        window_end=implemented + dt.timedelta(hours=1),
        submitted_at=implemented,
        implemented_at=implemented,
    )
    listed = block_html(home(client_for, sre_lead), "you", "changes")
    assert "Roll back the cache" in listed
    assert "approve by" in listed and 'class="late"' not in listed


def test_an_sre_lead_also_sees_the_organisations_worst_slos_overdue_post_mortems_and_stale_data(
    client_for, sre_lead, owner, service
):
    make_status(make_slo(service, 1, name="Nearly spent"), remaining=0.01)
    make_status(make_slo(service, 2, name="Comfortable"), remaining=0.9)
    make_status(make_slo(service, 3, name="Gone quiet"), stale=True)
    PostMortemFactory(
        incident=IncidentFactory(services=[service], title="Lost writes"),
        due_at=timezone.now() - dt.timedelta(days=1),
    )
    response = home(client_for, sre_lead)
    worst = block_html(response, "org", "worst_slos")
    assert worst.index("Nearly spent") < worst.index("Comfortable")
    assert "Lost writes" in block_html(response, "org", "org_postmortems")
    assert "Gone quiet" in block_html(response, "org", "stale_slos")
    assertNotContains(home(client_for, owner), 'id="block-org-')


# --- the registry ------------------------------------------------------------------------------


def test_a_block_registered_in_the_list_appears_on_the_page(client_for, owner, monkeypatch):
    provider = blocks.BlockProvider(
        "approvals",
        "Changes awaiting your approval",
        blocks.YOU,
        lambda context: [blocks.Row(title=f"Deploy for {context.user.username}", url="/x/")],
        lambda context: "/changes/",
    )
    monkeypatch.setattr(blocks, "BLOCKS", [*blocks.BLOCKS, provider])
    from portal.home import views

    monkeypatch.setattr(views, "BLOCKS", blocks.BLOCKS)
    approvals = block_html(home(client_for, owner), "you", "approvals")
    assert "Changes awaiting your approval" in approvals
    assert '<a href="/x/">Deploy for olivia</a>' in approvals


# --- cost ---------------------------------------------------------------------------------------


def _organisation(size: int, lead_team, lead):
    """``size`` of everything a home page lists, for the lead's team and for others."""
    today = timezone.localdate()
    for number in range(size):
        team = lead_team if number % 2 else TeamFactory()
        service = ServiceFactory(owner_team=team)
        incident = IncidentFactory(services=[service], severity=Severity.SEV2)
        postmortem = PostMortemFactory(
            incident=incident,
            author=lead,
            status=PostMortemStatus.IN_REVIEW,
            due_at=timezone.now() - dt.timedelta(hours=1),
        )
        postmortem.reviewers.set([lead])
        ActionItemFactory(postmortem=postmortem, owner=lead, due_date=today - dt.timedelta(1))
        make_status(make_slo(service, number), alert="page", remaining=0.1, stale=True)


@pytest.mark.parametrize("size", [2, 20])
def test_home_costs_the_same_queries_whatever_the_organisations_size(
    client_for, sre_lead, django_assert_max_num_queries, size
):
    team = TeamFactory()
    MembershipFactory(user=sre_lead, team=team)
    _organisation(size, team, sre_lead)
    client = client_for(sre_lead)
    # At most: a block stops reading once it has a page's rows (the post-mortems to review
    # can fill "Post-mortems for you" before those past due are read).
    with django_assert_max_num_queries(18):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert 'class="badge count"' in response.text


def test_a_block_escapes_what_its_rows_say_and_counts_them():
    import datetime as dt

    from portal.home.blocks import Block, Row
    from portal.templatetags.home import attention_block

    row = Row(
        title="<script>alert(1)</script> & co",
        url="/incidents/INC-1/?a=1&b=2",
        badges=(("SEV<1>", "severity-sev1"),),
        detail='Team "O\'Neil"',
        when=dt.date(2026, 12, 3),
        late=True,
    )
    html = attention_block("you", Block("incidents", "Open <incidents>", "you", [row], True, "/x/"))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert 'href="/incidents/INC-1/?a=1&amp;b=2"' in html
    assert '<span class="badge severity-sev1">SEV&lt;1&gt;</span>' in html
    assert (
        'Team &quot;O&#x27;Neil&quot; · due <time datetime="2026-12-03">3 Dec 2026</time>' in html
    )
    assert '<li class="late">' in html and '<span class="badge count">1+</span>' in html
    assert "Open &lt;incidents&gt;" in html and "See all of them" in html
    empty = attention_block("teams", Block("slos", "SLOs", "teams", [], False, "/slos/"))
    assert 'class="card attention-block" id="block-teams-slos"' in empty
    assert 'Nothing needs attention. <a href="/slos/">Open the list</a>' in empty
