"""Admin actions that need a little input (dates, a reason) before calling a service."""

from django.contrib import messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from gymsite.errors import ServiceError


def form_action(modeladmin, request, queryset, *, form_class, title, submit_label, apply, help=""):
    """Show ``form_class`` for the selected rows; on submit call ``apply(obj, data)`` for
    each and report how many worked and why the others did not."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            done, failed = 0, []
            for obj in queryset:
                try:
                    apply(obj, form.cleaned_data)
                    done += 1
                except ServiceError as exc:
                    failed.append(f"{obj}: {exc.message}")
            if done:
                modeladmin.message_user(
                    request, _("%(title)s: %(count)s done.") % {"title": title, "count": done}
                )
            for failure in failed:
                modeladmin.message_user(request, failure, level=messages.ERROR)
            return None
    else:
        form = form_class()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "queryset": list(queryset),
        "form": form,
        "action": request.POST.get("action", ""),
        "submit_label": submit_label,
        "help": help,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "accounts/admin/action_form.html", context)


def each(modeladmin, request, queryset, *, title, apply):
    """Call ``apply(obj)`` for each selected row and report the outcome."""
    done, failed = 0, []
    for obj in queryset:
        try:
            apply(obj)
            done += 1
        except ServiceError as exc:
            failed.append(f"{obj}: {exc.message}")
    if done:
        modeladmin.message_user(
            request, _("%(title)s: %(count)s done.") % {"title": title, "count": done}
        )
    for failure in failed:
        modeladmin.message_user(request, failure, level=messages.ERROR)
