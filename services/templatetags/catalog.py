"""{% load catalog %}: the catalog's badges and tag links, as filters.

    {{ service|tier_badge }}  {{ service|lifecycle_badge }}  {{ service.tags.all|tag_links }}

Filters rather than included templates: the lists show them on every row, and an
`{% include %}` costs about three times as much as a filter. Jinja2 templates get them too
(portal.jinja).
"""

from html import escape
from urllib.parse import quote

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portal.links import link
from services.choices import Lifecycle, Tier

register = template.Library()


def _tier_badge(tier, label):
    return format_html('<span class="badge tier-{}" title="{}">Tier {}</span>', tier, label, tier)


def _lifecycle_badge(lifecycle, label):
    return format_html('<span class="badge lifecycle-{}">{}</span>', lifecycle, label)


# A badge depends on the value alone: each is written once, not once per row of a list.
_TIER_BADGES = {tier: _tier_badge(tier, label) for tier, label in Tier.choices}
_LIFECYCLE_BADGES = {
    lifecycle: _lifecycle_badge(lifecycle, label) for lifecycle, label in Lifecycle.choices
}


@register.filter
def tier_badge(service):
    badge = _TIER_BADGES.get(service.tier)
    return badge if badge is not None else _tier_badge(service.tier, service.get_tier_display())


@register.filter
def lifecycle_badge(service):
    badge = _LIFECYCLE_BADGES.get(service.lifecycle)
    if badge is None:
        badge = _lifecycle_badge(service.lifecycle, service.get_lifecycle_display())
    return badge


@register.filter
def chat_link(channel):
    """A team's chat channel as a link: a URL as it is, a ``#channel`` under
    settings.CHAT_BASE_URL when one is set; otherwise the text ("—" without a channel)."""
    channel = (channel or "").strip()
    if not channel:
        return "—"
    if channel.startswith(("https://", "http://")):
        return format_html('<a href="{}" rel="noopener">{}</a>', channel, channel)
    base = settings.CHAT_BASE_URL
    if base and channel.startswith("#") and len(channel) > 1:
        return format_html(
            '<a href="{}{}" rel="noopener">{}</a>', base, quote(channel[1:], safe=""), channel
        )
    return channel


@register.filter
def tag_links(tags):
    """Each tag as a link to the catalog filtered by it; nothing without tags. Written with
    html.escape (what format_html escapes with) rather than format_html_join: the catalog
    repeats it on every row."""
    if not tags:
        return ""
    catalog = escape(link("service_list"))
    items = "".join(
        f'<li><a class="tag" href="{catalog}?tag={escape(quote(tag.slug))}">'
        f"{escape(tag.name)}</a></li>"
        for tag in tags
    )
    return mark_safe(f'<ul class="tags">{items}</ul>')
