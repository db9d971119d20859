"""The form renderer: Django's built-in widgets and form layouts through Jinja2.

Every select, input and form layout is a small template, and a select renders one more
per option: on the incident page the role, status and severity forms were about a sixth
of the request. Django ships the same widget and form templates for Jinja2 (the markup is
identical); Jinja2 renders them several times faster. Templates that exist only for
Django's engine (the admin's widgets) are rendered by it, as before.
"""

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(BaseRenderer):
    def __init__(self):
        self.jinja2 = Jinja2()
        self.django = DjangoTemplates()

    def get_template(self, template_name):
        try:
            return self.jinja2.get_template(template_name)
        except TemplateDoesNotExist:
            return self.django.get_template(template_name)
