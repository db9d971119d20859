"""REST endpoints that move SLO definitions in and out of the portal as files.

- GET /api/slos/prometheus-rules/?service=SLUG: recording and alerting rules (services.rules);
- GET /api/slos/openslo/?service=SLUG: the SLOs as OpenSLO v1 documents (services.openslo);
- POST /api/slos/openslo/: import OpenSLO documents, all or nothing, sent as the request body
  or as one or more multipart `file` fields. The importing user must be allowed to edit the
  SLOs of every service the documents name (SRE leads, or engineers of the owning team).

Everyone signed in reads, as everywhere in the portal. Downloads are YAML; errors are JSON,
400 with the message naming the file, document and field, 403 naming the service.
"""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.roles import can_create_anything
from services.backstage.sources import MAX_SOURCE_BYTES, Source
from services.openslo.documents import OpenSLOError, OpenSLOPermissionError
from services.openslo.exporter import UnknownService, export_yaml, slos_for_export
from services.openslo.importer import import_sources
from services.rules import rules_yaml

YAML_CONTENT_TYPE = "text/yaml; charset=utf-8"
REQUEST_BODY = "request body"
# YAML text, parsed by clients as whatever its documents hold (nothing when no SLO matches).
YAML_DOWNLOAD = {
    (200, "text/yaml"): OpenApiResponse(OpenApiTypes.ANY, description="YAML documents.")
}
SERVICE_PARAMETER = OpenApiParameter(
    "service", str, description="Only the SLOs of the service with this slug."
)


class YAMLBodyParser(BaseParser):
    """Any body that is not a multipart upload is the YAML text itself, so that
    `curl --data-binary @slos.yaml` works without naming a content type."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        content = stream.read(MAX_SOURCE_BYTES + 1) if stream else b""
        return {"sources": [_decoded(REQUEST_BODY, content)]}


def _decoded(name: str, content: bytes) -> Source:
    if len(content) > MAX_SOURCE_BYTES:
        raise ParseError(f"{name}: larger than {MAX_SOURCE_BYTES} bytes")
    try:
        return Source(name=name, text=content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ParseError(f"{name}: not UTF-8 text") from error


def _export_selection(request):
    service_slug = request.query_params.get("service") or None
    try:
        return service_slug, slos_for_export(service_slug)
    except UnknownService as error:
        raise ValidationError({"service": [str(error)]}) from error


def _yaml_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=YAML_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PrometheusRulesView(APIView):
    @extend_schema(
        parameters=[SERVICE_PARAMETER],
        responses=YAML_DOWNLOAD,
        summary="Prometheus recording and alerting rules for the SLOs",
    )
    def get(self, request):
        service_slug, slos = _export_selection(request)
        text = rules_yaml(slos, portal_base_url=settings.PORTAL_BASE_URL)
        return _yaml_download(text, f"{service_slug or 'all'}-slo-rules.yaml")


class OpenSLOView(APIView):
    parser_classes = [MultiPartParser, YAMLBodyParser]

    @extend_schema(
        parameters=[SERVICE_PARAMETER],
        responses=YAML_DOWNLOAD,
        summary="The SLOs as OpenSLO v1 documents",
    )
    def get(self, request):
        service_slug, slos = _export_selection(request)
        return _yaml_download(export_yaml(slos), f"{service_slug or 'all'}-openslo.yaml")

    @extend_schema(
        request={"application/yaml": OpenApiTypes.STR, "multipart/form-data": OpenApiTypes.OBJECT},
        responses={200: OpenApiTypes.OBJECT},
        summary="Import OpenSLO v1 documents, all or nothing",
    )
    def post(self, request):
        # Permission before parsing, as for the catalog's creates: someone who edits no team's
        # records imports nothing, whatever the documents say (even none at all).
        if not can_create_anything(request.user):
            raise PermissionDenied("Only engineers and SRE leads import SLOs.")
        try:
            report = import_sources(uploaded_sources(request), user=request.user)
        except OpenSLOPermissionError as error:
            raise PermissionDenied(str(error)) from error
        except OpenSLOError as error:
            raise ParseError(f"{error}. Nothing was imported.") from error
        return Response(report.as_dict())


def uploaded_sources(request) -> list[Source]:
    """The YAML files of a request parsed by MultiPartParser and YAMLBodyParser: multipart
    fields "file", else the body itself."""
    uploads = request.FILES.getlist("file")
    if uploads:
        return [_decoded(upload.name, upload.read(MAX_SOURCE_BYTES + 1)) for upload in uploads]
    sources = request.data.get("sources") if hasattr(request.data, "get") else None
    if not sources or not sources[0].text.strip():
        raise ParseError("Send the YAML as the request body or as multipart files “file”.")
    return sources
