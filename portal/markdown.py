"""Markdown for long text (post-mortems, runbooks), rendered to HTML that is safe to show.

People write the Markdown, so it may hold raw HTML: the rendered output goes through nh3
with an allow-list of tags and attributes, links may only point to http, https or mailto
addresses (or stay relative), and every link gets rel="noopener noreferrer".
"""

import functools

import markdown as markdown_library
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
# Anything else (javascript:, data:, vbscript:, file:) is dropped from href and src.
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"

# tables, fenced code, definition lists, abbreviations; lists that do not merge by accident.
EXTENSIONS = ["extra", "sane_lists"]


#: Texts up to this long are kept rendered (CACHED_TEXTS of them): a readiness review shows
#: the guidance of each of its criteria, the same few dozen texts on every review and every
#: view, and rendering one costs about half a millisecond.
CACHED_TEXT_LENGTH = 4_000
CACHED_TEXTS = 512


def render_markdown(text: str | None) -> SafeString:
    """Markdown source as sanitised HTML, marked safe for templates ("" for empty text)."""
    if not text:
        return mark_safe("")
    if len(text) <= CACHED_TEXT_LENGTH:
        return _rendered(text)
    return _render(text)


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _rendered(text: str) -> SafeString:
    return _render(text)


def _render(text: str) -> SafeString:
    html = markdown_library.markdown(text, extensions=EXTENSIONS, output_format="html")
    # Sanitised just above: only allow-listed tags, attributes and URL schemes remain.
    return mark_safe(
        nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
            url_schemes=set(ALLOWED_URL_SCHEMES),
            link_rel=LINK_REL,
        )
    )
