from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """Pages of 25 like the UI's lists; a client may ask for up to 200 with page_size."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
