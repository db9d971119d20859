"""The floor of bench/http_pages.py: the least a Django page backed by PostgreSQL costs here.

One view runs one query and renders a small template, with no middleware and no apps.
bench/http_pages.py serves it with the same gunicorn and worker count as the portal, so that the
ratio of a page's throughput to this one's says how far the page is from what Django can do
on the same machine at the same moment.

    DATABASE_URL=postgres://... gunicorn floor:app -w 2 --chdir bench -b 127.0.0.1:PORT
"""

import os
from urllib.parse import urlparse

import django
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.template import Context, Template
from django.urls import path

_url = urlparse(os.environ["DATABASE_URL"])
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="floor",
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _url.path.lstrip("/"),
            "USER": _url.username or "",
            "HOST": _url.hostname,
            "PORT": _url.port or 5432,
            "CONN_MAX_AGE": 600,
        }
    },
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
)
django.setup()

PAGE = Template(
    "<html><body><h1>{{ title }}</h1><ul>"
    "{% for row in rows %}<li>{{ row }}</li>{% endfor %}"
    "</ul></body></html>"
)


def floor(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT generate_series(1, 20)")
        rows = [row[0] for row in cursor.fetchall()]
    return HttpResponse(PAGE.render(Context({"title": "floor", "rows": rows})))


urlpatterns = [path("", floor)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure()

app = get_wsgi_application()
