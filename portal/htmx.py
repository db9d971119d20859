"""What every list and page view does the same way: one view answers with the whole page
or, when htmx asks for a part of it, with the fragment; lists are paged alike."""

from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

PAGE_SIZE = 25


def wants_fragment(request) -> bool:
    """htmx asks for a part of the page; a boosted request or a history restore wants it all."""
    return bool(
        request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    )


def render_page_or_fragment(request, *, page_template, fragment_template, context):
    template = fragment_template if wants_fragment(request) else page_template
    response = render(request, template, context)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def paginate(request, queryset, *, tie_breaker="pk") -> Page:
    # A tie-breaker on the primary key keeps pages stable when sorting by a shared value.
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    return Paginator(queryset.order_by(*ordering, tie_breaker), PAGE_SIZE).get_page(
        request.GET.get("page")
    )


def posted(request):
    """The submitted data of a POST, else None for an unbound form. Not "request.POST or
    None": an empty submission must still be validated and refused."""
    return request.POST if request.method == "POST" else None
