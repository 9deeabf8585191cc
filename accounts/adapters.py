from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.urls import reverse

from accounts.tenancy import get_scope
from gymsite.outbox import outbox_enqueue


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open to the public; a new person completes their member profile next.

    allauth's emails (verification, password reset) go through the outbox like
    every other email, so they survive a broker or mail-server outage.
    """

    def get_signup_redirect_url(self, request):
        return reverse("portal:join")

    def send_mail(self, template_prefix, email, context):
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            None,
        )
        scope = get_scope()
        with transaction.atomic():
            outbox_enqueue(
                kind="email",
                payload={
                    "to": list(message.to),
                    "subject": message.subject,
                    "body": message.body,
                    **({"html": html} if html else {}),
                },
                organisation_id=scope.organisation_id if scope else None,
            )
