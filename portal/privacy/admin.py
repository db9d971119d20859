"""Admin for SRE leads: erasing a person (an action on the user list), the log of erasures,
the sign-in records of django-axes with an "unlock" action, and the log of sent emails."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError

from portal.models import SentEmail
from portal.privacy.actions import person_erase
from portal.privacy.models import Erasure

User = get_user_model()


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    actions = ["erase_personal_data"]

    @admin.action(description="Erase the personal data of the selected people")
    def erase_personal_data(self, request, queryset):
        erased = []
        for person in queryset:
            name = person.get_full_name() or person.get_username()
            try:
                person_erase(person=person, by=request.user, via=Erasure.Via.ADMIN)
            except ValidationError as error:
                self.message_user(request, f"{person}: {' '.join(error.messages)}", messages.ERROR)
            else:
                erased.append(name)
        if erased:
            self.message_user(request, f"Erased: {', '.join(erased)}.", messages.SUCCESS)


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = ["erased_at", "person", "erased_by", "via"]
    list_select_related = ["person", "erased_by"]
    readonly_fields = ["person", "erased_by", "erased_at", "via"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class SignInAttemptAdmin(AccessAttemptAdmin):
    """Failed sign-ins being counted, per username and address; a pair at the limit is
    locked out until its cool-off passes, or until an SRE lead unlocks it here."""

    actions = ["unlock"]

    @admin.action(description="Unlock the selected username and address pairs")
    def unlock(self, request, queryset):
        count = queryset.count()
        queryset.delete()
        self.message_user(request, f"{count} pair(s) unlocked.", messages.SUCCESS)


@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "name", "subject"]
    list_filter = ["name"]
    search_fields = ["subject"]
    readonly_fields = ["sent_at", "name", "subject", "recipients"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
