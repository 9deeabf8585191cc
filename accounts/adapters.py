from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open to the public; a new person completes their member profile next."""

    def get_signup_redirect_url(self, request):
        from django.urls import reverse

        return reverse("portal:join")
