from rest_framework import viewsets

from services.models import Membership, Service, Tag, Team


class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.all()


class MembershipViewSet(viewsets.ModelViewSet):
    queryset = Membership.objects.all()


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Tag.objects.all()


class ServiceViewSet(viewsets.ModelViewSet):
    queryset = Service.objects.all()
