"""Tags and filters of the home page's blocks."""

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portal.formats import day_text, moment_html
from portal.markup import escape_text

register = template.Library()


@register.filter
def when(value) -> str:
    """A day ("3 Dec 2026") or a moment in the viewer's zone ("3 Dec 2026, 14:05 CET"),
    machine-readable too."""
    if isinstance(value, dt.datetime):
        return moment_html(value)
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), day_text(value))


@register.simple_tag
def attention_block(section_key: str, block) -> str:
    """One block of the home page (portal.home.blocks.Block) as its card: a tag rather than
    an included template, since a home shows up to a hundred rows and each row's template
    nodes cost several times the same markup built here."""
    block_id = f"block-{escape_text(section_key)}-{escape_text(block.key)}"
    parts = [
        f'<section class="card attention-block{" needs-attention" if block.rows else ""}" '
        f'id="{block_id}" aria-labelledby="{block_id}-heading">\n'
        f'  <h3 id="{block_id}-heading">{escape_text(block.title)}'
    ]
    link = escape_text(block.link)
    if block.rows:
        count = f"{len(block.rows)}{'+' if block.more else ''}"
        parts.append(
            f' <span class="badge count">{count}</span></h3>\n  <ul class="attention-rows">'
        )
        parts.extend(_row(row) for row in block.rows)
        more = "See all of them" if block.more else "Open the list"
        parts.append(f'\n  </ul>\n  <p><a href="{link}">{more}</a></p>\n</section>')
    else:
        parts.append(
            "</h3>\n"
            f'  <p class="muted">Nothing needs attention. <a href="{link}">Open the list</a></p>\n'
            "</section>"
        )
    return mark_safe("".join(parts))


def _row(row) -> str:
    late = ' class="late"' if row.late else ""
    badges = "".join(
        f'<span class="badge {escape_text(css)}">{escape_text(text)}</span> '
        for text, css in row.badges
    )
    link = f'<a href="{escape_text(row.url)}">{escape_text(row.title)}</a>'
    line = f"\n    <li{late}>\n      {link}\n      {badges}"
    if row.detail or row.when:
        detail = escape_text(row.detail)
        if row.detail and row.when:
            detail += " · "
        if row.when:
            detail += f"{escape_text(row.when_label)} {when(row.when)}"
        line += f'\n      <div class="attention-detail muted">{detail}</div>'
    return line + "\n    </li>"
