"""The admin's autocomplete selects, safe whatever value a form sends back.

Django's autocomplete widgets look up the chosen records to show them again: a form sent back
with errors and a value that is no record's key ("abc" for a number) made that lookup raise,
and the admin answered 500 instead of showing the form's errors. These widgets leave such a
value out (the field's own error says what is wrong). Admins with ``autocomplete_fields``
take them through ``AutocompleteGuard``, first among their bases.
"""

from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError


class _ReadableValuesOnly:
    def optgroups(self, name, value, attr=None):
        opts = self.field.remote_field.model._meta
        key = opts.get_field(getattr(self.field.remote_field, "field_name", None) or opts.pk.name)
        return super().optgroups(name, [item for item in value if _readable(key, item)], attr)


def _readable(field, value) -> bool:
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class GuardedAutocompleteSelect(_ReadableValuesOnly, AutocompleteSelect):
    pass


class GuardedAutocompleteSelectMultiple(_ReadableValuesOnly, AutocompleteSelectMultiple):
    pass


class AutocompleteGuard:
    """For a ModelAdmin or an inline: its ``autocomplete_fields`` get the guarded widgets."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = GuardedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = GuardedAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)
