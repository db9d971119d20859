"""{% load catalog %}: the catalog's badges and tag links, as filters.

    {{ service|tier_badge }}  {{ service|lifecycle_badge }}  {{ service.tags.all|tag_links }}

Filters rather than included templates: the lists show them on every row, and an
`{% include %}` costs about three times as much as a filter.
"""

from urllib.parse import quote

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join

from portal.links import link

register = template.Library()


@register.filter
def tier_badge(service):
    return format_html(
        '<span class="badge tier-{}" title="{}">Tier {}</span>',
        service.tier,
        service.get_tier_display(),
        service.tier,
    )


@register.filter
def lifecycle_badge(service):
    return format_html(
        '<span class="badge lifecycle-{}">{}</span>',
        service.lifecycle,
        service.get_lifecycle_display(),
    )


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
    """Each tag as a link to the catalog filtered by it; nothing without tags."""
    if not tags:
        return ""
    catalog = link("service_list")
    items = format_html_join(
        "",
        '<li><a class="tag" href="{}?tag={}">{}</a></li>',
        ((catalog, quote(tag.slug), tag.name) for tag in tags),
    )
    return format_html('<ul class="tags">{}</ul>', items)
