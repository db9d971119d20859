"""The escalation an item reached, on the item's own page (the action items of a post-mortem):
``{% reminder_escalations "action_item" action_items as escalations %}`` once, in one query,
then ``{% escalation_badge escalations item.pk %}`` per item."""

from django import template

from portal.reminders.selectors import escalations_of

register = template.Library()


@register.simple_tag
def reminder_escalations(kind, items):
    return escalations_of(kind, [item.pk for item in items])


@register.inclusion_tag("reminders/_escalation_badge.html")
def escalation_badge(escalations, pk):
    return {"history": escalations.get(str(pk))}
