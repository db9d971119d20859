from datetime import timedelta

from celery.schedules import ParseException
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule
from knox.models import AuthToken, get_digest_token
from knox.settings import CONSTANTS

from portal.models import APIToken, Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run", "hostname", "alive"]
    readonly_fields = ["name", "last_run", "hostname"]

    @admin.display(boolean=True, description="Worker and beat alive")
    def alive(self, obj):
        stale_after = timedelta(seconds=settings.HEARTBEAT_STALE_AFTER_SECONDS)
        return timezone.now() - obj.last_run < stale_after

    def has_add_permission(self, request):
        return False


class APITokenAddForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty for a token that does not expire.",
    )

    class Meta:
        model = APIToken
        fields = ["user"]

    def save(self, commit=True):
        # Made like knox's manager makes it; the token itself is kept only to show it once.
        token = super().save(commit=False)
        token.digest, self.token = get_digest_token()
        token.token_key = self.token[: CONSTANTS.TOKEN_KEY_LENGTH]
        days = self.cleaned_data.get("expires_in_days")
        token.expiry = timezone.now() + timedelta(days=days) if days else None
        if commit:
            token.save()
        return token


# Knox's own admin lists the digest; an API token is shown by its prefix only.
admin.site.unregister(AuthToken)


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created", "expiry", "expired"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username"]
    fields = ["prefix", "user", "created", "expiry"]
    readonly_fields = fields
    add_form = APITokenAddForm

    @admin.display(description="Prefix")
    def prefix(self, obj):
        return f"{obj.token_key}…"

    @admin.display(boolean=True)
    def expired(self, obj):
        return obj.expiry is not None and obj.expiry <= timezone.now()

    def get_fields(self, request, obj=None):
        return ["user", "expires_in_days"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None):
        # A token is made, read (its prefix) and deleted, never edited.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"The new API token of {obj.user}, shown this once only: {form.token}",
            messages.WARNING,
        )


# django-celery-beat's crontab page shows its schedule in words, read from the form's values:
# sent back with a value its validators refuse ("-1"), the words raised instead of the form
# showing the errors. The page here says the words only of a schedule that parses.
admin.site.unregister(CrontabSchedule)


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    fields = ("in_words", *beat_admin.CrontabScheduleAdmin.fields[1:])
    readonly_fields = ("in_words",)

    @admin.display(description="Human readable")
    def in_words(self, crontab):
        try:
            return crontab.human_readable
        except ParseException:
            return "—"
