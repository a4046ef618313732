"""Admin for API tokens: each staff user sees and revokes their own, a superuser everyone's.

Tokens are issued by POST /api/v1/auth/token/ only (qa.api.views.TokenView); only their hash is
stored (django-rest-knox), so a token can be revoked here but never shown again. This replaces
knox's own admin, which lists every token to whoever may view the model and issues new ones.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("token_start", "user", "created", "expiry")
    list_select_related = ("user",)
    ordering = ("-created",)
    fields = ("token_start", "user", "created", "expiry")
    readonly_fields = fields

    @admin.display(description=_("token"))
    def token_start(self, obj):
        # knox keeps the token's first characters to find it; enough for its owner to recognise it.
        return f"{obj.token_key[:8]}…"

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def _own(self, request, obj) -> bool:
        user = request.user
        return user.is_active and user.is_staff and (obj is None or user.is_superuser or obj.user_id == user.pk)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self._own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._own(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
