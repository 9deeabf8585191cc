"""Admin: connect the gym's Stripe account, see the event ledger and reconciliations.

Imported by ``BillingConfig.ready()`` (which also registers the Stripe outbox
handler, through ``billing.stripe.services``).
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import TenantAdmin
from accounts.models import Organisation
from accounts.tenancy import require_scope
from billing.stripe import services
from billing.stripe.models import StripeAccount, StripeEvent, StripeReconciliation
from billing.stripe.webhooks import SUBSCRIBED_EVENTS
from gymsite.errors import ServiceError


def webhook_url_for(organisation: Organisation) -> str:
    """The URL to give Stripe: the gym's own host, else the site's URL with its slug."""
    if organisation.domain:
        return f"https://{organisation.domain}{reverse('stripe-webhook')}"
    path = reverse("stripe-webhook-gym", kwargs={"slug": organisation.slug})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


class StripeAccountForm(forms.ModelForm):
    secret_key = forms.CharField(
        label=_("Secret key"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("sk_live_… or sk_test_… (or a restricted key rk_…). Stored encrypted."),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("whsec_…, shown on the webhook endpoint's page in Stripe. Stored encrypted."),
    )

    class Meta:
        model = StripeAccount
        fields = ["account_id", "publishable_key", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            for field in ("secret_key", "webhook_secret"):
                if not cleaned.get(field):
                    self.add_error(field, _("Required to connect Stripe."))
        return cleaned


@admin.register(StripeAccount)
class StripeAccountAdmin(TenantAdmin):
    form = StripeAccountForm
    list_display = ["__str__", "livemode", "is_active", "updated_at"]
    readonly_fields = ["livemode", "webhook_url", "events_to_send", "updated_at"]
    fieldsets = [
        (None, {"fields": ["account_id", "publishable_key", "secret_key", "webhook_secret"]}),
        (_("Stripe dashboard settings"), {"fields": ["webhook_url", "events_to_send"]}),
        (_("State"), {"fields": ["is_active", "livemode", "updated_at"]}),
    ]

    # Keys are the owner's business: "billing.view_*" must not show them to the desk.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("billing.change_stripeaccount")

    def has_module_permission(self, request):
        return request.user.has_perm("billing.change_stripeaccount")

    @admin.display(description=_("Webhook URL"))
    def webhook_url(self, obj):
        organisation = Organisation.objects.get(pk=require_scope().organisation_id)
        return webhook_url_for(organisation)

    @admin.display(description=_("Events to send"))
    def events_to_send(self, obj):
        return ", ".join(SUBSCRIBED_EVENTS)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        organisation = Organisation.objects.get(pk=require_scope().organisation_id)
        if change and not data.get("secret_key") and not data.get("webhook_secret"):
            # Only the public fields changed.
            super().save_model(request, obj, form, change)
            return
        from billing.stripe.config import keys_for

        current = keys_for(organisation.pk)
        try:
            account = services.stripe_account_connect(
                organisation=organisation,
                secret_key=data.get("secret_key") or (current.secret_key if current else ""),
                publishable_key=data["publishable_key"],
                webhook_secret=data.get("webhook_secret")
                or (current.webhook_secret if current else ""),
                account_id=data.get("account_id", ""),
                actor=request.user,
            )
        except ServiceError as exc:
            from django.contrib import messages

            self.message_user(request, str(exc), level=messages.ERROR)
            return
        obj.pk = account.pk
        if not data.get("is_active", True):
            services.stripe_account_disconnect(account=account, actor=request.user)


@admin.register(StripeEvent)
class StripeEventAdmin(TenantAdmin):
    list_display = ["received_at", "type", "object_id", "status", "outcome", "source"]
    list_filter = ["status", "source"]
    search_fields = ["event_id", "object_id", "type"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "account",
        "event_id",
        "type",
        "object_id",
        "livemode",
        "stripe_created",
        "status",
        "outcome",
        "received_at",
        "source",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeReconciliation)
class StripeReconciliationAdmin(TenantAdmin):
    list_display = ["started_at", "finished_at", "checked", "fixed", "differences", "error"]
    readonly_fields = ["started_at", "finished_at", "checked", "fixed", "drift", "error"]

    @admin.display(description=_("differences"))
    def differences(self, obj):
        return len(obj.drift)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
