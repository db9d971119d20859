"""Serializer fields shared by the apps' APIs."""

from rest_framework import serializers


class CappedListField(serializers.ListField):
    """A list whose length is checked before its items are: refusing 10,000 items costs a
    count, not 10,000 validations or lookups."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)
