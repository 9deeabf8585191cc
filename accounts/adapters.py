from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import Organisation, Role
from accounts.selectors import user_roles_in
from accounts.tenancy import get_scope
from gymsite.outbox import outbox_enqueue


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open to the public; a new person completes their member profile next.

    allauth's emails (verification, password reset) go through the outbox like
    every other email, so they survive a broker or mail-server outage.
    """

    def get_signup_redirect_url(self, request):
        return reverse("portal:join")

    def get_login_redirect_url(self, request):
        """The front desk's work is the desk: a login whose only staff role there is
        front desk lands on it, everyone else where they always did."""
        organisation = getattr(request, "organisation", None)
        if organisation is not None:
            roles = user_roles_in(user=request.user, organisation_id=organisation.pk)
            if Role.FRONT_DESK in roles and not roles & {Role.OWNER, Role.BRANCH_MANAGER}:
                return reverse("access:desk")
        return super().get_login_redirect_url(request)

    def _site(self):
        """The gym in scope stands for the site: its name in the greeting and subject.

        django.contrib.sites is not installed (one deployment serves many gyms), so
        allauth's own lookup only finds the request's host name.
        """
        scope = get_scope()
        name = None
        if scope is not None and scope.organisation_id:
            name = (
                Organisation.objects.filter(pk=scope.organisation_id)
                .values_list("name", flat=True)
                .first()
            )
        request = getattr(self, "request", None)
        domain = request.get_host() if request is not None else urlsplit(settings.SITE_URL).netloc
        return SimpleNamespace(name=name or "Spotter", domain=domain)

    def format_email_subject(self, subject):
        return f"[{self._site().name}] {subject}"

    def send_mail(self, template_prefix, email, context):
        context = {"current_site": self._site(), "email": email, **context}
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
