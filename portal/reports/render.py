"""The report as an email: HTML in a 600 px column with its CSS inlined (Gmail and Outlook
drop <style> blocks), charts referenced as ``cid:`` images, and a plain-text alternative with
the same figures. The recipient's own footer (why they get it, how to stop) goes in where
the markers stand, when each copy is sent."""

from dataclasses import dataclass

import css_inline
from django.conf import settings
from django.template import Context
from django.template.loader import get_template, select_template

from portal.reports import sections as report_sections
from portal.reports.charts import Chart
from portal.reports.months import Month

HTML_FOOTER_MARK = "<!-- recipient-footer -->"
TEXT_FOOTER_MARK = "[recipient-footer]"
CID_DOMAIN = "reliability-portal"

_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class RenderedReport:
    subject: str
    html: str
    text: str


def cid_of(name: str) -> str:
    return f"{name}@{CID_DOMAIN}"


def _section_templates(key: str, extension: str) -> str:
    return select_template(
        [f"reports/sections/{key}.{extension}", f"reports/sections/generic.{extension}"]
    ).template.name


def report_render(
    *,
    scope_name: str,
    month: Month,
    data: dict,
    summary: list[str],
    charts: list[Chart],
    generated_at,
    report_url: str,
) -> RenderedReport:
    previous = month.previous()
    context = {
        "portal_base_url": settings.PORTAL_BASE_URL.rstrip("/"),
        "subject": f"Reliability report {month.label}: {scope_name}",
        "scope_name": scope_name,
        "month": month,
        "month_short": f"{month.first_day:%b %Y}",
        "previous_short": f"{previous.first_day:%b %Y}",
        "previous_label": previous.label,
        "time_zone": settings.TIME_ZONE,
        "summary": summary,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "data": data.get(section.key),
                "html_template": _section_templates(section.key, "html"),
                "text_template": _section_templates(section.key, "txt"),
            }
            for section in report_sections.SECTIONS
        ],
        "images": {
            chart.name.replace("-", "_"): {"cid": cid_of(chart.name), "alt": chart.alt}
            for chart in charts
        },
        "generated_at": generated_at,
        "report_url": report_url,
    }
    html = get_template("reports/email.html").render(context)
    # Plain text is not HTML: names reach the reader as typed, not as entities.
    text = get_template("reports/email.txt").template.render(Context(context, autoescape=False))
    return RenderedReport(subject=context["subject"], html=_inliner.inline(html), text=text)


def with_footer(html: str, text: str, *, footer_html: str, footer_text: str) -> tuple[str, str]:
    """The report's HTML and text with a recipient's footer where the markers stand."""
    return html.replace(HTML_FOOTER_MARK, footer_html), text.replace(TEXT_FOOTER_MARK, footer_text)
