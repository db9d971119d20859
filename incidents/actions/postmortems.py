"""Writes to post-mortems and their action items; workflow steps note themselves on the
incident's timeline."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import postmortems
from incidents.actions.incidents import _lock, _name, timeline_entry_add
from incidents.choices import ActionItemStatus, PostMortemStatus, TimelineKind
from incidents.models.incidents import Incident
from incidents.models.postmortems import ActionItem, PostMortem

#: The post-mortem fields people write; status, dates and author move through the actions.
POSTMORTEM_WRITABLE_FIELDS = frozenset(PostMortem.SECTIONS)
ACTION_ITEM_WRITABLE_FIELDS = frozenset(
    {"title", "owner", "due_date", "priority", "kind", "status", "wont_do_reason"}
)


def _lock_postmortem(postmortem: PostMortem) -> None:
    """Lock the post-mortem's row and reload it, so two workflow steps at once take turns."""
    PostMortem.objects.select_for_update().filter(pk=postmortem.pk).values_list("pk").get()
    postmortem.refresh_from_db()


def _move_postmortem(postmortem: PostMortem, status: str) -> None:
    if not postmortems.can_transition(postmortem.status, status):
        raise ValidationError(
            {
                "status": f"A post-mortem that is {postmortem.get_status_display().lower()} "
                f"cannot become {PostMortemStatus(status).label.lower()}."
            }
        )
    postmortem.status = status


def _save_move(postmortem: PostMortem, *, by, done: str) -> PostMortem:
    """Save a post-mortem moved to its new status and say so on the incident's timeline."""
    postmortem.full_clean()
    postmortem.save()
    timeline_entry_add(
        incident=postmortem.incident,
        kind=TimelineKind.POSTMORTEM,
        text=f"Post-mortem {done} by {_name(by)}.",
        author=by,
    )
    return postmortem


@transaction.atomic
def postmortem_start(*, incident: Incident, by) -> PostMortem:
    """Start the incident's post-mortem as a draft filled in from the incident: summary,
    impact and durations, and its key (pinned) timeline events; due per the settings."""
    _lock(incident)
    if incident.resolved_at is None:
        raise ValidationError("A post-mortem starts once the incident is resolved.")
    if PostMortem.objects.filter(incident=incident).exists():
        raise ValidationError("This incident already has a post-mortem.")
    key_events = incident.timeline_entries.filter(pinned=True)
    postmortem = PostMortem(
        incident=incident,
        author=by,
        due_at=postmortems.due_at_for(incident),
        **postmortems.first_draft(incident, key_events),
    )
    postmortem.full_clean()
    postmortem.save()
    if by is not None:
        postmortem.contributors.add(by)
    timeline_entry_add(
        incident=incident,
        kind=TimelineKind.POSTMORTEM,
        text=f"Post-mortem started by {_name(by)}.",
        author=by,
    )
    return postmortem


@transaction.atomic
def postmortem_update(
    *, postmortem: PostMortem, by, reviewers: Iterable | None = None, **sections
) -> PostMortem:
    """Change the sections and reviewers of a post-mortem that is not yet published. Whoever
    changes a section is one of its writers (``contributors``) from then on, and so can no
    longer review it: a review is a second pair of eyes."""
    unknown = set(sections) - POSTMORTEM_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"postmortem_update cannot change {', '.join(sorted(unknown))}")
    _lock_postmortem(postmortem)
    if postmortem.status == PostMortemStatus.PUBLISHED:
        raise ValidationError("The post-mortem is published; its record is final.")
    changed = [name for name, value in sections.items() if getattr(postmortem, name) != value]
    writers = postmortems.contributor_ids(postmortem) | ({by.pk} if by and changed else set())
    if reviewers is not None:
        reviewers = list(reviewers)
        writing = [reviewer for reviewer in reviewers if reviewer.pk in writers]
        if writing:
            names = ", ".join(_name(reviewer) for reviewer in writing)
            raise ValidationError(
                {"reviewers": f"{names} wrote this post-mortem and cannot review it."}
            )
        readers = [reviewer for reviewer in reviewers if not postmortems.may_review(reviewer)]
        if readers:
            names = ", ".join(_name(reviewer) for reviewer in readers)
            raise ValidationError(
                {"reviewers": f"{names} cannot review: reviewers are engineers or SRE leads."}
            )
    for name in changed:
        setattr(postmortem, name, sections[name])
    postmortem.full_clean()
    postmortem.save()
    if changed and by is not None:
        postmortem.contributors.add(by)
    if reviewers is not None:
        postmortem.reviewers.set(reviewers)
    return postmortem


@transaction.atomic
def postmortem_submit_for_review(*, postmortem: PostMortem, by) -> PostMortem:
    """Hand the draft to its reviewers; it needs at least one."""
    _lock_postmortem(postmortem)
    _move_postmortem(postmortem, PostMortemStatus.IN_REVIEW)
    if not postmortem.reviewers.exists():
        raise ValidationError({"reviewers": "Name at least one reviewer first."})
    return _save_move(postmortem, by=by, done="submitted for review")


@transaction.atomic
def postmortem_return_to_draft(*, postmortem: PostMortem, by) -> PostMortem:
    _lock_postmortem(postmortem)
    _move_postmortem(postmortem, PostMortemStatus.DRAFT)
    return _save_move(postmortem, by=by, done="returned to draft")


@transaction.atomic
def postmortem_publish(*, postmortem: PostMortem, by) -> PostMortem:
    """Publish a reviewed post-mortem, by an independent reviewer (see
    incidents.postmortems.publish_refusal); from then on it is searchable and final, and a
    SEV1/SEV2 incident may close."""
    _lock_postmortem(postmortem)
    refusal = postmortems.publish_refusal(by, postmortem)
    if refusal:
        raise ValidationError(refusal)
    _move_postmortem(postmortem, PostMortemStatus.PUBLISHED)
    postmortem.published_at = timezone.now()
    return _save_move(postmortem, by=by, done="published")


def _set_completion(action_item: ActionItem, previous_status: str | None) -> None:
    """Done items remember when they were done; anything else has no completion time."""
    if action_item.status != ActionItemStatus.DONE:
        action_item.completed_at = None
    elif previous_status != ActionItemStatus.DONE or action_item.completed_at is None:
        action_item.completed_at = timezone.now()
    if action_item.status != ActionItemStatus.WONT_DO:
        action_item.wont_do_reason = ""


@transaction.atomic
def action_item_create(*, postmortem: PostMortem, **fields) -> ActionItem:
    action_item = ActionItem(postmortem=postmortem, **fields)
    _set_completion(action_item, None)
    action_item.full_clean()
    action_item.save()
    return action_item


@transaction.atomic
def action_item_update(*, action_item: ActionItem, **fields) -> ActionItem:
    """Change any of the item's fields, its status included (see action_item_set_status)."""
    unknown = set(fields) - ACTION_ITEM_WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"action_item_update cannot change {', '.join(sorted(unknown))}")
    previous_status = action_item.status
    for name, value in fields.items():
        setattr(action_item, name, value)
    _set_completion(action_item, previous_status)
    action_item.full_clean()
    action_item.save()
    return action_item


def action_item_set_status(*, action_item: ActionItem, status: str, reason: str = "") -> ActionItem:
    """Move the item to a status; won't do needs the reason why."""
    return action_item_update(action_item=action_item, status=status, wont_do_reason=reason)
