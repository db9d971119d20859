"""Request checks that hold for every page and API endpoint."""

from django.http import HttpResponseBadRequest, JsonResponse

from portal.api.parsers import NUL, NUL_MESSAGE


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


class RefuseNulCharactersMiddleware:
    """A NUL character in the path or the query string is a 400 naming the parameter.

    PostgreSQL cannot hold a NUL in text, so any lookup or filter with one failed in the
    database (a 500); no URL or filter of the portal has a use for one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._field_with_nul(request)
        if field is None:
            return self.get_response(request)
        if is_api_request(request):
            return JsonResponse({field: [NUL_MESSAGE]}, status=400)
        return HttpResponseBadRequest(f"{field}: {NUL_MESSAGE}", content_type="text/plain")

    @staticmethod
    def _field_with_nul(request) -> str | None:
        if NUL in request.path:
            return "path"
        for key, values in request.GET.lists():
            if NUL in key or any(NUL in value for value in values):
                return key.replace(NUL, "") or "query"
        return None
