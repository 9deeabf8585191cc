from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, Member
from inventory.models import Order, Product
from inventory.selectors import member_matches


class BranchChoiceForm(forms.Form):
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), label=_("Collect at")
    )


class CartQuantityForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(status=Product.Status.ACTIVE), widget=forms.HiddenInput
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=0, max_value=1000, initial=1)


class BuyForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1000, initial=1)
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), label=_("Collect at"), required=False
    )

    def __init__(self, *args, sale, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].max_value = sale.per_member_limit
        self.fields["quantity"].widget.attrs["max"] = sale.per_member_limit
        if sale.branch_id:
            del self.fields["branch"]
        else:
            self.fields["branch"].required = True


POS_LINES = 6


class PosSaleForm(forms.Form):
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), label=_("Branch")
    )
    # Typed, not picked from every member: a name, email or phone, with suggestions from
    # pos/members/ as one types (inventory/pos.js); the chosen one's id goes in ``member``.
    member_search = forms.CharField(
        label=_("Member"),
        required=False,
        max_length=150,
        help_text=_("Name, email or phone. Leave empty for a walk-in."),
        widget=forms.TextInput(
            attrs={"list": "member-suggestions", "autocomplete": "off", "type": "search"}
        ),
    )
    member = forms.ModelChoiceField(
        queryset=Member.objects.filter(status=Member.Status.ACTIVE),
        required=False,
        widget=forms.HiddenInput,
    )
    scan = forms.CharField(
        label=_("Scan or type SKUs"),
        required=False,
        max_length=500,
        help_text=_("One per scan; the same code twice is two of it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    customer_name = forms.CharField(
        label=_("Walk-in name"),
        required=False,
        max_length=150,
        help_text=_("Needed for a day pass: it becomes their ticket at the door."),
    )
    customer_email = forms.EmailField(label=_("Email a receipt to"), required=False)
    payment = forms.ChoiceField(
        label=_("Payment"),
        choices=[
            (Order.Payment.PAID_NOW, _("Paid now")),
            (Order.Payment.ACCOUNT, _("Charge to account")),
        ],
    )
    provider = forms.ChoiceField(
        label=_("Paid with"),
        choices=[("manual", _("Cash or card terminal")), ("sandbox", _("Card (online provider)"))],
        required=False,
    )
    reference = forms.CharField(label=_("Terminal reference"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        branches = list(self.fields["branch"].queryset[:2])
        if len(branches) == 1:
            # A one-branch login sells at that branch: nothing to pick.
            self.fields["branch"].initial = branches[0].pk
        products = Product.objects.filter(status=Product.Status.ACTIVE).order_by("name")
        for index in range(POS_LINES):
            self.fields[f"product_{index}"] = forms.ModelChoiceField(
                queryset=products, required=False, label=_("Product %(n)s") % {"n": index + 1}
            )
            self.fields[f"quantity_{index}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=1000,
                label=_("Quantity %(n)s") % {"n": index + 1},
            )

    def clean(self):
        data = super().clean()
        items = []
        search = (data.get("member_search") or "").strip()
        if search and not data.get("member"):
            matches = list(member_matches(search)[:2])
            if len(matches) == 1:
                data["member"] = matches[0]
            else:
                self.add_error(
                    "member_search",
                    _("Nobody matches that.")
                    if not matches
                    else _("More than one member matches: pick one from the list."),
                )
        codes = (data.get("scan") or "").replace(",", " ").split()
        if codes:
            wanted = Q()
            for code in codes:
                wanted |= Q(sku__iexact=code)
            by_sku = {
                p.sku.lower(): p
                for p in Product.objects.filter(wanted, status=Product.Status.ACTIVE)
            }
            unknown = [c for c in codes if c.lower() not in by_sku]
            if unknown:
                self.add_error("scan", _("Unknown code: %(codes)s") % {"codes": ", ".join(unknown)})
            counted: dict = {}
            for code in codes:
                product = by_sku.get(code.lower())
                if product is not None:
                    counted[product] = counted.get(product, 0) + 1
            items.extend(counted.items())
        for index in range(POS_LINES):
            product, quantity = data.get(f"product_{index}"), data.get(f"quantity_{index}")
            if product and not quantity:
                self.add_error(f"quantity_{index}", _("How many?"))
            elif quantity and not product:
                self.add_error(f"product_{index}", _("Which product?"))
            elif product:
                items.append((product, quantity))
        if not items and not self.errors:
            raise forms.ValidationError(_("Add at least one product."))
        merged: dict = {}
        for product, quantity in items:
            merged[product] = merged.get(product, 0) + quantity
        data["items"] = list(merged.items())
        return data


class ReturnForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1000)
    reason = forms.CharField(label=_("Reason"), max_length=200)
    restock = forms.BooleanField(label=_("Back on the shelf"), required=False, initial=True)
