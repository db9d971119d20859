"""Markdown rendering: what people write shows as formatted text, never as live script."""

import pytest
from django.template import Context, Template

from portal.markdown import render_markdown

XSS_ATTEMPTS = {
    "script tag": "<script>alert('xss')</script>",
    "onerror attribute": '<img src="x.png" onerror="alert(1)">',
    "javascript link": "[click me](javascript:alert(1))",
    "mixed-case javascript link": '<a href="JaVaScRiPt:alert(1)">click me</a>',
    "data URL image": "![chart](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "event handler on a link": '<a href="https://example.test" onclick="alert(1)">x</a>',
    "iframe": '<iframe src="https://example.test"></iframe>',
    "style attribute": '<p style="background:url(javascript:alert(1))">x</p>',
}
DANGEROUS_FRAGMENTS = ["<script", "onerror", "javascript:", "data:", "onclick", "<iframe", "style="]


@pytest.mark.parametrize("source", XSS_ATTEMPTS.values(), ids=XSS_ATTEMPTS.keys())
def test_no_script_survives_rendering(source):
    html = render_markdown(source).lower()
    for fragment in DANGEROUS_FRAGMENTS:
        assert fragment not in html


def test_the_text_of_a_removed_script_is_dropped_with_it():
    assert "alert" not in render_markdown("before <script>alert('xss')</script> after")


def test_formatting_lists_tables_and_code_are_kept():
    html = render_markdown(
        "# Root cause\n\n**Bold** and *italic*\n\n- one\n- two\n\n"
        "| step | minutes |\n|---|---|\n| detect | 4 |\n\n```\nkubectl rollout undo\n```"
    )
    for fragment in (
        "<h1>Root cause</h1>",
        "<strong>Bold</strong>",
        "<em>italic</em>",
        "<li>one</li>",
        "<td>detect</td>",
        "<code>kubectl rollout undo",
    ):
        assert fragment in html


@pytest.mark.parametrize(
    "source, href",
    [
        ("[runbook](https://runbooks.example.test/db)", "https://runbooks.example.test/db"),
        ("[plain](http://example.test)", "http://example.test"),
        ("[write](mailto:sre@example.test)", "mailto:sre@example.test"),
        ("[incident](/incidents/INC-2026-0001/)", "/incidents/INC-2026-0001/"),
    ],
)
def test_web_mail_and_relative_links_are_kept_and_open_without_an_opener(source, href):
    html = render_markdown(source)
    assert f'href="{href}"' in html
    assert 'rel="noopener noreferrer"' in html


def test_an_https_image_is_kept():
    html = render_markdown("![p99](https://grafana.example.test/p.png)")
    assert 'src="https://grafana.example.test/p.png"' in html
    assert 'alt="p99"' in html


@pytest.mark.parametrize("empty", ["", None])
def test_empty_text_renders_nothing(empty):
    assert render_markdown(empty) == ""


def test_the_template_filter_renders_sanitised_html_unescaped():
    template = Template("{% load portal_markdown %}{{ text|markdown }}")
    html = template.render(Context({"text": "**ok** <script>alert(1)</script>"}))
    assert "<strong>ok</strong>" in html
    assert "<script" not in html
    assert "&lt;strong&gt;" not in html


def test_a_short_text_is_rendered_once_and_a_long_one_each_time():
    """Readiness reviews show the same guidance on every view: kept rendered, and sanitised
    as any other text."""
    from portal import markdown

    short = "Guidance with <script>alert(1)</script> **bold**"
    first = markdown.render_markdown(short)
    hits = markdown._rendered.cache_info().hits
    assert markdown.render_markdown(short) == first and "<script>" not in first
    assert markdown._rendered.cache_info().hits == hits + 1

    long = "word " * (markdown.CACHED_TEXT_LENGTH // 5 + 1)
    before = markdown._rendered.cache_info()
    assert markdown.render_markdown(long).startswith("<p>word")
    assert markdown._rendered.cache_info() == before
