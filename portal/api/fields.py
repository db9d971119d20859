"""Serializer fields shared by the apps' APIs."""

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS


class CappedListField(serializers.ListField):
    """A list whose length is checked before its items are: refusing 10,000 items costs a
    count, not 10,000 validations or lookups."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


# Lists prefetch a to-many relation into a plain list, ``listed_<relation>``, for speed: a
# prefetch kept in the relation's own cache builds a manager and a queryset for every row of
# the page. The fields below read that list when it is there; a record read or written on
# its own has none and reads the relation as usual (after a write, afresh).


def listed_prefetch(relation: str, queryset: QuerySet) -> Prefetch:
    """The prefetch of a list view for a field that reads ``listed_<relation>``."""
    return Prefetch(relation, queryset=queryset, to_attr=f"listed_{relation}")


def listed(instance, relation: str):
    """The records of a to-many relation of ``instance``: those a list view prefetched
    (listed_prefetch()), else the relation's own."""
    records = getattr(instance, f"listed_{relation}", None)
    return getattr(instance, relation).all() if records is None else records


class ListedManyRelatedField(serializers.ManyRelatedField):
    """A ``many=True`` relation that reads what a list view prefetched (listed_prefetch())."""

    def get_attribute(self, instance):
        records = getattr(instance, f"listed_{self.source}", None)
        return super().get_attribute(instance) if records is None else records


def listed_many(relation_class, **kwargs) -> ListedManyRelatedField:
    """``relation_class(many=True, **kwargs)`` reading what a list view prefetched (the
    arguments are shared out between the list and its items as DRF's many_init does)."""
    many_kwargs = {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
    return ListedManyRelatedField(child_relation=relation_class(**kwargs), **many_kwargs)
