from django.contrib import admin

from portal.profile.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """People's own settings: SRE leads read them; people change them on /me/."""

    list_display = ["user", "time_zone", "digest_enabled", "updated_at"]
    list_filter = ["digest_enabled"]
    list_select_related = ["user"]
    search_fields = ["user__username", "time_zone"]
    readonly_fields = ["user", "time_zone", "digest_enabled", "updated_at"]

    def has_add_permission(self, request):
        return False
