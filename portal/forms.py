"""Form helpers shared by every app's views."""

from django import forms
from django.core.exceptions import ValidationError


def add_action_error(form: forms.Form, error: ValidationError) -> None:
    """Show a ValidationError raised by an action on the form: on its field when the form
    has that field, otherwise at the top, so no action error turns into a 500."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
