"""The blocks of the home page ("what needs my attention?"): each kind of record is one block
provider, registered in ``BLOCKS`` at the bottom of this module, the one place to plug a new
kind in (one line per block).

A provider is a function ``rows(context) -> Iterable[Row]`` returning what needs the person's
attention, most urgent first, in a fixed number of queries (one, usually); the page shows the
first ``ROWS_PER_BLOCK`` of them and says when there are more. Each block links to the list
that shows all of them (``link(context) -> str``), and says "nothing needs attention" when it
has no row. Providers read the apps through their selectors, prepared in
``portal.home.reads``.
"""

import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from portal.home import reads
from portal.timezones import portal_today
from toil import approvals as change_approvals
from toil.selectors import changes as change_selectors

#: How many rows a block shows; the rest are a click away on the list it links to.
ROWS_PER_BLOCK = 8
#: Action items are shown from this many days before they fall due.
DUE_SOON_DAYS = 7

#: The page's sections, in order: what is the person's own, their teams', the organisation's.
YOU, TEAMS, ORG = "you", "teams", "org"
SECTION_TITLES = {
    YOU: "For you",
    TEAMS: "Your teams",
    ORG: "Across the organisation",
}


@dataclass(frozen=True)
class HomeContext:
    """What providers may read: the person, the portal's date and time of the request, the
    person's teams (ids and slugs, by name) and whether they are an SRE lead."""

    user: object
    now: dt.datetime
    today: dt.date
    team_ids: tuple[int, ...]
    team_slugs: tuple[str, ...]
    is_sre_lead: bool


@dataclass(frozen=True)
class Row:
    """One thing needing attention: what it is and where it is, badges (text, CSS class),
    a line of detail, and a moment or day (``when``, named by ``when_label``: "due",
    "started"); ``late`` when it is past due."""

    title: str
    url: str
    badges: tuple[tuple[str, str], ...] = ()
    detail: str = ""
    when: dt.datetime | dt.date | None = None
    when_label: str = "due"
    late: bool = False


@dataclass(frozen=True)
class BlockProvider:
    key: str
    title: str
    section: str
    rows: Callable[[HomeContext], Iterable[Row]]
    link: Callable[[HomeContext], str]
    #: Whether the block is shown to this person (SRE leads' blocks, teams' blocks).
    shown: Callable[[HomeContext], bool] = lambda context: True


@dataclass(frozen=True)
class Block:
    """A provider's block as the page shows it."""

    key: str
    title: str
    section: str
    rows: list[Row]
    more: bool
    link: str


def block_of(provider: BlockProvider, context: HomeContext) -> Block:
    """The provider's first rows (one more is read to know whether there are more)."""
    rows = list(itertools.islice(provider.rows(context), ROWS_PER_BLOCK + 1))
    return Block(
        key=provider.key,
        title=provider.title,
        section=provider.section,
        rows=rows[:ROWS_PER_BLOCK],
        more=len(rows) > ROWS_PER_BLOCK,
        link=provider.link(context),
    )


def _url(name: str, *args, **query) -> str:
    """A list's address with its filters (lists of values repeat the parameter)."""
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _has_teams(context: HomeContext) -> bool:
    return bool(context.team_ids)


def _sre_lead(context: HomeContext) -> bool:
    return context.is_sre_lead


#: Rows a block reads: one more than it shows, to know whether there are more.
_READ = ROWS_PER_BLOCK + 1


# --- incidents --------------------------------------------------------------------------------


def open_incidents(context: HomeContext) -> Iterable[Row]:
    """Open incidents of the person's teams and every open SEV1/SEV2."""
    for incident in reads.open_incidents(team_ids=context.team_ids, limit=_READ):
        yours = incident.team_id in context.team_ids
        yield Row(
            title=f"{incident.reference} {incident.title}",
            url=incident.get_absolute_url(),
            badges=(
                (incident.severity, f"severity-{incident.severity.lower()}"),
                (incident.get_status_display(), f"incident-status-{incident.status}"),
            ),
            detail=(
                f"{incident.team.name}{' (your team)' if yours else ''}"
                if incident.team
                else "No owning team"
            ),
            when=incident.started_at,
            when_label="started",
        )


def _open_incidents_link(context: HomeContext) -> str:
    return _url("incident_list", open="true")


# --- SLOs -------------------------------------------------------------------------------------


def _slo_row(slo) -> Row:
    status = getattr(slo, "status", None)
    badges = []
    detail = slo.service.name
    if status is not None:
        if status.alert != "none":
            badges.append(
                ("Paging" if status.alert == "page" else "Burning", f"alert-{status.alert}")
            )
        if status.stale:
            badges.append(("Stale data", "stale"))
        if status.remaining is not None:
            detail += f" · {status.remaining * 100:.1f} % of the error budget left"
    else:
        detail += " · not computed yet"
    return Row(
        title=slo.name,
        url=slo.get_absolute_url(),
        badges=tuple(badges),
        detail=detail,
    )


def team_slos(context: HomeContext) -> Iterable[Row]:
    """The SLOs of the person's teams that page, burn or have stale data."""
    for slo in reads.team_slos(team_ids=context.team_ids, limit=_READ):
        yield _slo_row(slo)


def _team_slos_link(context: HomeContext) -> str:
    return _url("slo_list", team=list(context.team_slugs), ordering="budget")


def worst_slos(context: HomeContext) -> Iterable[Row]:
    for slo in reads.worst_slos(limit=_READ):
        yield _slo_row(slo)


def stale_slos(context: HomeContext) -> Iterable[Row]:
    for slo in reads.stale_slos(limit=_READ):
        row = _slo_row(slo)
        yield Row(
            title=row.title,
            url=row.url,
            badges=row.badges,
            detail=row.detail,
            when=slo.status.latest_data_at,
            when_label="last data",
        )


# --- post-mortems and action items ------------------------------------------------------------


def _postmortem_row(postmortem, context: HomeContext) -> Row:
    incident = postmortem.incident
    return Row(
        title=f"Post-mortem of {incident.reference} {incident.title}",
        url=f"{incident.get_absolute_url()}postmortem/",
        badges=((postmortem.get_status_display(), f"postmortem-{postmortem.status}"),),
        when=postmortem.due_at,
        late=postmortem.due_at is not None and postmortem.due_at < context.now,
    )


def postmortems_for_you(context: HomeContext) -> Iterable[Row]:
    """Post-mortems awaiting the person's review, then those past due that they write
    (as the incident's commander or the post-mortem's author)."""
    seen = set()
    for postmortem in reads.postmortems_awaiting(user=context.user, limit=_READ):
        seen.add(postmortem.pk)
        yield _postmortem_row(postmortem, context)
    for postmortem in reads.postmortems_past_due(now=context.now, writer=context.user, limit=_READ):
        if postmortem.pk not in seen:
            yield _postmortem_row(postmortem, context)


def _postmortems_for_you_link(context: HomeContext) -> str:
    return _url("postmortem_list", status="in_review")


def team_postmortems_past_due(context: HomeContext) -> Iterable[Row]:
    for postmortem in reads.postmortems_past_due(
        now=context.now, team_ids=context.team_ids, limit=_READ
    ):
        yield _postmortem_row(postmortem, context)


def _team_postmortems_link(context: HomeContext) -> str:
    return _url("postmortem_list", past_due="true", team=list(context.team_slugs))


def org_postmortems_past_due(context: HomeContext) -> Iterable[Row]:
    for postmortem in reads.postmortems_past_due(now=context.now, limit=_READ):
        yield _postmortem_row(postmortem, context)


def _item_row(item, context: HomeContext, *, with_owner: bool) -> Row:
    incident = item.postmortem.incident
    detail = incident.reference
    if with_owner:
        owner = item.owner
        detail += f" · {(owner.get_full_name() or owner.username) if owner else 'no owner'}"
    return Row(
        title=item.title,
        url=f"{incident.get_absolute_url()}postmortem/#action-item-{item.pk}",
        badges=(("Overdue", "overdue"),) if item.due_date < context.today else (),
        detail=detail,
        when=item.due_date,
        late=item.due_date < context.today,
    )


def your_action_items(context: HomeContext) -> Iterable[Row]:
    """The person's pending action items, overdue or due within DUE_SOON_DAYS days."""
    horizon = context.today + dt.timedelta(days=DUE_SOON_DAYS)
    for item in reads.action_items_due_by(day=horizon, owner=context.user, limit=_READ):
        yield _item_row(item, context, with_owner=False)


def _your_action_items_link(context: HomeContext) -> str:
    return _url("action_item_mine", overdue="true")


def team_action_items(context: HomeContext) -> Iterable[Row]:
    """Overdue action items of the teams' incidents, whoever owns them."""
    yesterday = context.today - dt.timedelta(days=1)
    for item in reads.action_items_due_by(day=yesterday, team_ids=context.team_ids, limit=_READ):
        yield _item_row(item, context, with_owner=True)


def _team_action_items_link(context: HomeContext) -> str:
    return _url("action_item_list", overdue="true", team=list(context.team_slugs))


# --- change requests (the change list's "needs my attention", as the digest reads it) ---------


def changes_for_you(context: HomeContext) -> Iterable[Row]:
    """Change requests waiting for this person's approval, by when they were submitted."""
    changes = change_selectors.changes_awaiting_approval(
        context.user, now=context.now, changes=change_selectors.change_lines()
    )
    for change in changes[:_READ]:
        # As the reminder digest dates it: an implemented emergency by when approval closes.
        due_at = change_approvals.approval_due_at(
            change.category, change.implemented_at, change.window_start
        )
        yield Row(
            title=str(change),
            url=change.get_absolute_url(),
            badges=((change.get_category_display(), f"category-{change.category}"),),
            detail=change.team.name if change.team_id else "",
            when=due_at,
            when_label="planned start" if due_at == change.window_start else "approve by",
            late=due_at < context.now,
        )


# --- readiness reviews and compliance findings (their selectors, as the reminders read them) --


def reviews_for_you(context: HomeContext) -> Iterable[Row]:
    for review in reads.reviews_awaiting(user=context.user, limit=_READ):
        yield Row(
            title=str(review),
            url=review.get_absolute_url(),
            badges=((review.get_status_display(), "review"),),
            when=review.submitted_at,
            when_label="submitted",
        )


def _reviews_link(context: HomeContext) -> str:
    return _url("readiness_review_list", status="in_review", mine="true")


def team_findings(context: HomeContext) -> Iterable[Row]:
    for finding in reads.team_findings(team_ids=context.team_ids, limit=_READ):
        late = finding.due_date is not None and finding.due_date < context.today
        yield Row(
            title=str(finding),
            url=finding.get_absolute_url(),
            badges=((finding.get_status_display(), "finding"),)
            + ((("Overdue", "overdue"),) if late else ()),
            when=finding.due_date,
            late=late,
        )


def _findings_link(context: HomeContext) -> str:
    return _url("compliance_finding_list", team=list(context.team_slugs))


def home_context(user, *, team_ids, team_slugs, is_sre_lead) -> HomeContext:
    return HomeContext(
        user=user,
        now=timezone.now(),
        today=portal_today(),
        team_ids=tuple(team_ids),
        team_slugs=tuple(team_slugs),
        is_sre_lead=is_sre_lead,
    )


#: Every block of the home page, in the order they appear within their section. One line per
#: block: BlockProvider(key, title, section, rows, link[, shown]).
BLOCKS: list[BlockProvider] = [
    BlockProvider("incidents", "Open incidents", YOU, open_incidents, _open_incidents_link),
    BlockProvider(
        "action_items", "Your action items", YOU, your_action_items, _your_action_items_link
    ),
    BlockProvider(
        "postmortems", "Post-mortems for you", YOU, postmortems_for_you, _postmortems_for_you_link
    ),
    BlockProvider("reviews", "Readiness reviews for you", YOU, reviews_for_you, _reviews_link),
    BlockProvider(
        "changes",
        "Changes awaiting your approval",
        YOU,
        changes_for_you,
        lambda c: _url("change_list", awaiting="true"),
    ),
    BlockProvider(
        "team_slos", "SLOs paging, burning or stale", TEAMS, team_slos, _team_slos_link, _has_teams
    ),
    BlockProvider(
        "team_postmortems",
        "Post-mortems past due",
        TEAMS,
        team_postmortems_past_due,
        _team_postmortems_link,
        _has_teams,
    ),
    BlockProvider(
        "team_action_items",
        "Overdue action items",
        TEAMS,
        team_action_items,
        _team_action_items_link,
        _has_teams,
    ),
    BlockProvider(
        "team_findings", "Compliance findings", TEAMS, team_findings, _findings_link, _has_teams
    ),
    BlockProvider(
        "worst_slos",
        "Least error budget left",
        ORG,
        worst_slos,
        lambda context: _url("slo_list", ordering="budget"),
        _sre_lead,
    ),
    BlockProvider(
        "org_postmortems",
        "Post-mortems past due",
        ORG,
        org_postmortems_past_due,
        lambda context: _url("postmortem_list", past_due="true"),
        _sre_lead,
    ),
    BlockProvider(
        "stale_slos",
        "Stale SLI data",
        ORG,
        stale_slos,
        lambda context: _url("slo_list", stale="true"),
        _sre_lead,
    ),
]
