import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# What the process keeps for its whole life (Django, the apps, the URLconf and every view it
# imports) is set aside from the garbage collector: its full collections otherwise walk
# those hundred thousand objects again and again, about 0.5 ms of every request.
get_resolver().check()  # imports the URLconf and every view now, not on the first request
gc.collect()
gc.freeze()
