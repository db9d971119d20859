"""The portal's answers to errors no view handled (handler403, handler404 and handler500 in
portal.urls): JSON under /api/, the portal's own pages (with the navigation) elsewhere.

An unreachable database is not the portal's bug but an outage that passes: pages and API
alike answer 503 with Retry-After, so clients and proxies retry instead of reporting a
failure. The page is rendered without the database (no user, no navigation from it).
"""

import logging
import sys

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import permission_denied as django_permission_denied

from portal.api.errors import DATABASE_ERRORS, RETRY_AFTER_SECONDS
from portal.middleware import is_api_request

logger = logging.getLogger(__name__)


def service_unavailable(request):
    if is_api_request(request):
        response = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503
        )
    else:
        page = loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return service_unavailable(request)
    if is_api_request(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    try:
        # With the request, so the page has the navigation and the signed-in person.
        return HttpResponseServerError(loader.render_to_string("500.html", request=request))
    except Exception:
        # What failed may be what every page needs (a context processor, the session): the
        # page without them still says what happened.
        logger.exception("The 500 page could not be rendered with its navigation")
        return HttpResponseServerError(loader.render_to_string("500.html"))


def permission_denied(request, exception):
    """The refusal's own sentence (who may do this) on the portal's 403 page."""
    if is_api_request(request):
        return JsonResponse({"detail": str(exception) or "Permission denied."}, status=403)
    return django_permission_denied(request, exception)


def page_not_found(request, exception):
    """An address under /api/ that matches no endpoint answers in JSON, as the API does."""
    if is_api_request(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return django_page_not_found(request, exception)
