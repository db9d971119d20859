"""Form helpers shared by every app's views."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name
from django.shortcuts import redirect, render
from django.utils import timezone


def label_times_with_zone(form: forms.BaseForm, *names: str) -> None:
    """Name on each date-time field the zone it reads times in: the viewer's (the active
    zone, which pages show times in too), since Django reads a typed time in that zone."""
    zone = timezone.get_current_timezone_name()
    for name in names:
        field = form.fields.get(name)
        if field is not None:
            field.label = f"{field.label or pretty_name(name)} ({zone})"


def show_only_when(form: forms.BaseForm, name: str, *, field: str, values) -> None:
    """Show field `name` only while field `field` has one of `values`
    (static/js/form-conditions.js hides it otherwise; without JavaScript it always shows).
    A hidden field is still posted: the form must ignore what does not apply."""
    form.fields[name].widget.attrs["data-shown-when"] = f"{field}={','.join(values)}"


def add_action_error(form: forms.Form, error: ValidationError) -> None:
    """Show a ValidationError raised by an action on the form: on its field when the form
    has that field, otherwise at the top, so no action error turns into a 500."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def form_page(
    request,
    form,
    save: Callable[..., object],
    *,
    title: str,
    cancel_url: str,
    success: Callable[[object], str],
    redirect_to=None,
):
    """A page of one create or edit form (form_page.html). On a valid POST, `save` runs the
    action with the form's action arguments; the action's refusal shows on the form, as the
    form's own errors do; once saved, `success(saved)` is the message and the page redirects
    to `redirect_to`, or to what was saved."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(**form.action_arguments())
        except ValidationError as error:
            add_action_error(form, error)
        else:
            messages.success(request, success(saved))
            return redirect(redirect_to or saved)
    return render(
        request, "form_page.html", {"form": form, "title": title, "cancel_url": cancel_url}
    )
