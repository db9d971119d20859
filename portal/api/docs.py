"""The API's documentation page (Swagger UI), read by people in a browser."""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView


class APIDocsView(SpectacularSwaggerSplitView):
    """A browser that is not signed in is sent to sign in and back, as every other page
    does; the page's set-up script (fetched by Swagger UI, not a person) keeps DRF's 403."""

    def dispatch(self, request, *args, **kwargs):
        # Before DRF's permission check, which would answer a JSON 403.
        if request.GET.get("script") is None and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)
