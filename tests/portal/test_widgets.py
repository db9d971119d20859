"""The several-choice widget: checkboxes (a click adds or removes one choice, never the
others), the current choices shown above the list, and every such field of the portal's
forms using it."""

import importlib
import pkgutil

from django import forms

from portal.widgets import ChoicePicker

PROJECT_PACKAGES = ("services", "incidents", "toil", "portal")


class FruitForm(forms.Form):
    fruit = forms.MultipleChoiceField(
        choices=[("apple", "Apple"), ("pear", "Pear"), ("plum", "Plum")], widget=ChoicePicker
    )


def test_the_current_choices_are_shown_above_one_checkbox_per_choice():
    page = str(FruitForm(initial={"fruit": ["pear", "plum"]}))

    chosen = page.split('data-chosen aria-live="polite">')[1].split("</span>\n")[0]
    assert chosen == '<span class="chip">Pear</span><span class="chip">Plum</span>'
    assert page.count('type="checkbox" name="fruit"') == 3
    assert 'value="pear" id="id_fruit_1" checked' in page
    assert "<legend>Fruit:</legend>" in page


def test_nothing_chosen_says_none_and_the_filter_box_waits_for_its_script():
    page = str(FruitForm())

    assert '<span class="muted">none</span>' in page
    assert 'data-choice-filter placeholder="Type to filter the list"' in page
    assert 'aria-controls="id_fruit" hidden>' in page


def test_submitting_keeps_every_ticked_choice():
    form = FruitForm(data={"fruit": ["apple", "plum"]})

    assert form.is_valid()
    assert form.cleaned_data["fruit"] == ["apple", "plum"]


def _form_classes():
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if module.name.rsplit(".", 1)[-1] == "forms" or ".forms." in module.name:
                importlib.import_module(module.name)
    pending = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        # The admin draws its own several-choice widgets (filter_horizontal, autocomplete).
        in_admin = ".admin" in cls.__module__
        if (
            cls.__module__.startswith(tuple(f"{name}." for name in PROJECT_PACKAGES))
            and not in_admin
        ):
            yield cls


def test_every_several_choice_field_of_the_portals_forms_is_made_of_checkboxes():
    several_choice_fields = {
        f"{form_class.__module__}.{form_class.__name__}.{name}": field.widget
        for form_class in _form_classes()
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
    }

    assert "services.forms.ServiceForm.depends_on" in several_choice_fields
    assert "incidents.forms.incidents.IncidentDeclareForm.services" in several_choice_fields
    assert "incidents.forms.postmortems.PostMortemForm.reviewers" in several_choice_fields
    list_boxes = [
        name
        for name, widget in several_choice_fields.items()
        if not isinstance(widget, forms.CheckboxSelectMultiple)
    ]
    assert list_boxes == [], "use portal.widgets.ChoicePicker for these fields"
    assert isinstance(several_choice_fields["services.forms.ServiceForm.depends_on"], ChoicePicker)
