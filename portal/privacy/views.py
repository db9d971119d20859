"""The signed-in person's own page: what the portal holds about them, and its download."""

import json

from django.http import HttpResponse
from django.utils import timezone

from portal.privacy.export import personal_data_export


def me_export(request):
    """Everything the portal holds about the signed-in person, as a JSON download."""
    export = personal_data_export(request.user)
    response = HttpResponse(
        json.dumps(export, indent=2, ensure_ascii=False, sort_keys=True),
        content_type="application/json; charset=utf-8",
    )
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="reliability-portal-data-{request.user.pk}-{day}.json"'
    )
    # Personal data: never kept by a shared cache or the browser's.
    response["Cache-Control"] = "no-store, private"
    return response
