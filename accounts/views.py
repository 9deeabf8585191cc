from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts import selectors, services
from accounts.forms import DependantForm, MemberProfileForm
from accounts.models import Organisation
from gymsite.errors import ServiceError


def axes_username(request, credentials=None):
    """The login name django-axes counts failures against, whichever login path is used."""
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    data = getattr(request, "data", None) or request.POST
    for key in ("login", "email", "username"):
        if data.get(key):
            return str(data[key]).strip().lower()
    return None


def lockout(request, credentials=None, *args, **kwargs):
    """Shown (or returned as JSON to the API) when django-axes locks a login."""
    message = _(
        "Too many failed sign-in attempts. For your security this login is locked "
        "for %(minutes)s minutes. You can reset your password meanwhile."
    ) % {"minutes": 15}
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"code": "locked_out", "detail": message}, status=429)
    body = render_to_string("account/lockout.html", {"message": message}, request=request)
    return HttpResponse(body, status=429)


def _require_organisation(request):
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    return request.organisation


def landing(request):
    organisation = _require_organisation(request)
    return render(
        request,
        "portal/landing.html",
        {"organisation": organisation, "branches": selectors.branch_list()},
    )


def branches(request):
    _require_organisation(request)
    latitude, longitude = request.GET.get("lat"), request.GET.get("lon")
    nearest, error = None, None
    if latitude and longitude:
        try:
            lat, lon = Decimal(latitude), Decimal(longitude)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InvalidOperation
            nearest = selectors.branches_nearest(latitude=lat, longitude=lon)
        except InvalidOperation:
            error = _("That location is not valid.")
    return render(
        request,
        "portal/branches.html",
        {"branches": selectors.branch_list(), "nearest": nearest, "location_error": error},
    )


@login_required
def home(request):
    """The member dashboard; staff and trainers without a member record go to their tools."""
    _require_organisation(request)
    member = selectors.member_for_user(user=request.user)
    if member is None:
        if selectors.trainer_for_user(user=request.user):
            return redirect("portal:trainer")
        if selectors.is_staff_in(user=request.user, organisation_id=request.organisation.pk):
            return redirect("admin:index")
        return redirect("portal:join")
    return render(request, "portal/dashboard.html", {"member": member})


@login_required
def join(request):
    """Second step of joining after sign-up: the member profile."""
    _require_organisation(request)
    if selectors.member_for_user(user=request.user):
        return redirect("portal:home")
    form = MemberProfileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_register(user=request.user, **_profile_fields(form))
        except ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Welcome! Your profile is ready."))
            return redirect("portal:home")
    return render(request, "portal/join.html", {"form": form})


def _profile_fields(form) -> dict:
    data = dict(form.cleaned_data)
    if not data.get("photo"):
        data.pop("photo", None)
    return data


@login_required
def profile(request):
    _require_organisation(request)
    member = selectors.member_for_user(user=request.user)
    if member is None:
        return redirect("portal:join")
    form = MemberProfileForm(request.POST or None, request.FILES or None, instance=member)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.member_update_profile(member=member, **changes)
        except ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Your profile was saved."))
            return redirect("portal:profile")
    return render(request, "portal/profile.html", {"form": form, "member": member})


@login_required
def household(request):
    _require_organisation(request)
    member = selectors.member_for_user(user=request.user)
    if member is None:
        return redirect("portal:join")
    form = DependantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_register(
                user=None, home_branch=member.home_branch, payer=member, **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Household member added."))
            return redirect("portal:household")
    dependants = member.dependants.filter(status=member.Status.ACTIVE)
    return render(
        request,
        "portal/household.html",
        {"member": member, "dependants": dependants, "form": form},
    )


@login_required
def gyms(request):
    """The gym switcher: a person of several gyms on a shared host picks one for this
    session. Only their own gyms are offered or accepted."""
    choices = selectors.user_organisations(user=request.user)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    if request.method == "POST":
        try:
            chosen = choices.get(pk=int(request.POST.get("organisation", "")))
        except (ValueError, Organisation.DoesNotExist):
            messages.error(request, _("Choose one of your gyms."))
        else:
            request.session[selectors.GYM_SESSION_KEY] = chosen.pk
            return redirect(next_url or "portal:home")
    return render(request, "portal/gyms.html", {"choices": choices, "next": next_url})


@login_required
def trainer_home(request):
    _require_organisation(request)
    trainer = selectors.trainer_for_user(user=request.user)
    if trainer is None:
        raise Http404(_("You are not a trainer at this gym."))
    return render(request, "trainer/dashboard.html", {"trainer": trainer})
