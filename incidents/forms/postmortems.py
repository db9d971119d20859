"""Forms of the post-mortem UI. They validate input; the writes happen in incidents.actions."""

from django import forms
from django.contrib.auth import get_user_model

from incidents.models.postmortems import ActionItem, PostMortem
from incidents.selectors.incidents import engineers_and_sre_leads
from portal.widgets import ChoicePicker

MARKDOWN_HELP = "Markdown: **bold**, lists, tables, links (http, https, mailto)."


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, person):
        return person.get_full_name() or person.username


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        return person.get_full_name() or person.username


def _people():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "username")


class PostMortemForm(forms.ModelForm):
    reviewers = PersonMultipleChoiceField(
        queryset=None,
        required=False,
        widget=ChoicePicker,
        help_text="Who reviews it before it is published; at least one to submit it. An engineer "
        "or SRE lead who did not write it: the one who publishes it.",
    )

    class Meta:
        model = PostMortem
        fields = [*PostMortem.SECTIONS, "reviewers"]
        widgets = {section: forms.Textarea(attrs={"rows": 6}) for section in PostMortem.SECTIONS}
        help_texts = dict.fromkeys(PostMortem.SECTIONS, MARKDOWN_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = engineers_and_sre_leads().order_by(
            "first_name", "username"
        )

    def action_arguments(self) -> dict:
        """Keyword arguments for incidents.actions.postmortem_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ActionItemForm(forms.ModelForm):
    owner = PersonChoiceField(queryset=None, required=False)

    class Meta:
        model = ActionItem
        fields = ["title", "owner", "due_date", "priority", "kind", "status", "wont_do_reason"]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "wont_do_reason": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"wont_do_reason": "Needed when the status is “Won't do”."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people()

    def action_arguments(self) -> dict:
        """Keyword arguments for incidents.actions.action_item_create / action_item_update."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
