"""{% load portal_markdown %} then {{ text|markdown }}: Markdown rendered and sanitised."""

from django import template

from portal.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    return render_markdown(text)
