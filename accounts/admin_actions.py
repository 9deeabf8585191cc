"""Admin actions that need a little input (dates, a reason) before calling a service."""

from django import forms
from django.contrib import messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from unfold import widgets as unfold_widgets

from gymsite.errors import ServiceError


def _unfold_widget(field: forms.Field) -> forms.Widget:
    """The unfold-styled widget for a plain form field (Django's own widgets render
    as borderless, invisible inputs under unfold's styles). Keeps the field's attrs
    (``type="date"``, ``rows``...)."""
    attrs = dict(field.widget.attrs)
    if isinstance(field.widget, forms.HiddenInput):
        return field.widget
    if isinstance(field, forms.BooleanField):
        return unfold_widgets.UnfoldBooleanWidget(attrs=attrs)
    if isinstance(field, forms.ChoiceField):
        widget = unfold_widgets.UnfoldAdminSelectWidget(attrs=attrs)
        widget.choices = field.choices
        return widget
    if isinstance(field.widget, forms.Textarea):
        return unfold_widgets.UnfoldAdminTextareaWidget(attrs=attrs)
    if isinstance(field, forms.DecimalField):
        attrs.setdefault("inputmode", "decimal")
        return unfold_widgets.UnfoldAdminDecimalFieldWidget(
            attrs={**attrs, **field.widget_attrs(field.widget)}
        )
    if isinstance(field, forms.IntegerField):
        return unfold_widgets.UnfoldAdminIntegerFieldWidget(
            attrs={**attrs, **field.widget_attrs(field.widget)}
        )
    if isinstance(field, forms.DateField):
        attrs.setdefault("type", "date")
    return unfold_widgets.UnfoldAdminTextInputWidget(attrs=attrs)


def unfold_form(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        field.widget = _unfold_widget(field)
    return form


def form_action(modeladmin, request, queryset, *, form_class, title, submit_label, apply, help=""):
    """Show ``form_class`` for the selected rows; on submit call ``apply(obj, data)`` for
    each and report how many worked and why the others did not."""
    rows = list(queryset)
    if "apply" in request.POST:
        form = unfold_form(form_class(request.POST))
        if form.is_valid():
            done, failed = 0, []
            for obj in rows:
                try:
                    apply(obj, form.cleaned_data)
                    done += 1
                except ServiceError as exc:
                    failed.append((obj, exc))
            if done:
                modeladmin.message_user(
                    request, _("%(title)s: %(count)s done.") % {"title": title, "count": done}
                )
            if done or not failed:
                for obj, exc in failed:
                    modeladmin.message_user(request, f"{obj}: {exc.message}", level=messages.ERROR)
                return None
            # Nothing went through: show the form again with what was typed and why,
            # beside the field the refusal names.
            for obj, exc in failed:
                message = exc.message if len(rows) == 1 else f"{obj}: {exc.message}"
                form.add_error(exc.field if exc.field in form.fields else None, message)
    else:
        form = unfold_form(form_class())
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "queryset": rows,
        "form": form,
        "action": request.POST.get("action", ""),
        "submit_label": submit_label,
        "help": help,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "accounts/admin/action_form.html", context)


def each(modeladmin, request, queryset, *, apply, title="", done_message=None):
    """Call ``apply(obj)`` for each selected row and report the outcome
    (``done_message``, with ``%(count)s``, says what was done in the action's words)."""
    done, failed = 0, []
    for obj in queryset:
        try:
            apply(obj)
            done += 1
        except ServiceError as exc:
            failed.append(f"{obj}: {exc.message}")
    if done:
        message = done_message or _("%(title)s: %(count)s done.")
        modeladmin.message_user(request, message % {"title": title, "count": done})
    for failure in failed:
        modeladmin.message_user(request, failure, level=messages.ERROR)
