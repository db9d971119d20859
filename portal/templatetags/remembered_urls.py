"""`{% url %}` with remembered paths (portal.links), for every template.

settings.TEMPLATES lists this library among the built-ins, after Django's own, so its `url`
tag is the one templates get without a `{% load %}`. It is Django's tag with one change: a
route name without a namespace and arguments that are plain text or numbers is looked up in
portal.links instead of being reversed again. Namespaced names (the admin's), keyword
arguments and other argument types take Django's path unchanged.
"""

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from portal.links import link

register = template.Library()


def _plain(value) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


class RememberedURLNode(defaulttags.URLNode):
    def render(self, context):
        if self.kwargs:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        args = [arg.resolve(context) for arg in self.args]
        if not isinstance(view_name, str) or ":" in view_name or not all(map(_plain, args)):
            return super().render(context)
        url = ""
        try:
            url = link(view_name, *args)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
