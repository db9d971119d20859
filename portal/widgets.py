"""Form widgets shared by every app."""

from django import forms


class ChoicePicker(forms.CheckboxSelectMultiple):
    """Choosing several things without losing any: a checkbox per choice (a click adds or
    removes that one, never the others, unlike a multi-select list box), the current choices
    always shown above the list as chips, and a box that filters a long list as one types.

    Without JavaScript it is a plain scrolling list of checkboxes (which already adds);
    static/js/choice-picker.js (loaded by base.html, also for htmx-swapped forms) adds the
    filter box and keeps the chips up to date, each with a button that removes its choice.
    Use it for every several-choice field: `forms.ModelMultipleChoiceField(...,
    widget=ChoicePicker)`, or `widgets = {"field": ChoicePicker}` in a ModelForm's Meta.
    """

    template_name = "portal/widgets/choice_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["chosen"] = [
            option["label"]
            for _group, options, _index in context["widget"]["optgroups"]
            for option in options
            if option["selected"]
        ]
        return context
