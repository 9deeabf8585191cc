from django.utils.functional import SimpleLazyObject

from accounts.selectors import user_organisations


def tenant(request):
    user = getattr(request, "user", None)
    return {
        "organisation": getattr(request, "organisation", None),
        # The gym switcher's choices (the person's own gyms), read only where shown.
        "my_gyms": SimpleLazyObject(lambda: _my_gyms(user)),
    }


def _my_gyms(user):
    if user is None or not user.is_authenticated:
        return []
    return list(user_organisations(user=user))
