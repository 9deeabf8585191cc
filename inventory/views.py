"""Member shop pages and the front-desk till. Thin: parse, call a service, render."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import Branch
from accounts.selectors import is_staff_in, member_for_user, staff_scope_for
from accounts.tenancy import reset_scope, set_scope
from gymsite.errors import ServiceError
from inventory import selectors, services
from inventory.forms import BranchChoiceForm, BuyForm, CartQuantityForm, PosSaleForm, ReturnForm
from inventory.models import FlashSale, Product


def member_page(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "organisation", None) is None:
            raise Http404(_("No gym is served at this address."))
        member = member_for_user(user=request.user)
        if member is None:
            return redirect("portal:join")
        return view(request, member, *args, **kwargs)

    return wrapper


def staff_page(view):
    """Front-desk pages run in the person's staff scope (their branches only)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        organisation = getattr(request, "organisation", None)
        if organisation is None or not is_staff_in(
            user=request.user, organisation_id=organisation.pk
        ):
            raise Http404
        token = set_scope(staff_scope_for(user=request.user, organisation_id=organisation.pk))
        try:
            if not request.user.has_perm("inventory.add_order"):
                raise Http404
            return view(request, *args, **kwargs)
        finally:
            reset_scope(token)

    return wrapper


def _chosen_branch(request, member):
    branch_id = request.GET.get("branch") or request.session.get("shop_branch")
    branch = None
    if str(branch_id or "").isdigit():
        branch = Branch.objects.filter(pk=branch_id, is_active=True).first()
    branch = branch or member.home_branch
    request.session["shop_branch"] = branch.pk
    return branch


@member_page
def catalogue(request, member):
    branch = _chosen_branch(request, member)
    if request.method == "POST":
        form = CartQuantityForm(request.POST)
        if form.is_valid():
            try:
                services.cart_add(
                    member=member,
                    product=form.cleaned_data["product"],
                    quantity=form.cleaned_data["quantity"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("%(name)s added to your cart.") % {"name": form.cleaned_data["product"].name},
                )
        else:
            messages.error(request, _("Choose a quantity of at least 1."))
        return redirect("inventory:catalogue")
    return render(
        request,
        "inventory/catalogue.html",
        {
            "member": member,
            "branch": branch,
            "branches": Branch.objects.filter(is_active=True),
            "products": selectors.product_catalogue(branch=branch),
            "sales": selectors.flash_sale_list(),
        },
    )


@member_page
def cart(request, member):
    branch_form = BranchChoiceForm(
        request.POST if request.POST.get("action") == "order" else None,
        initial={"branch": _chosen_branch(request, member)},
    )
    if request.method == "POST" and request.POST.get("action") == "update":
        form = CartQuantityForm(request.POST)
        if form.is_valid():
            try:
                services.cart_set(
                    member=member,
                    product=form.cleaned_data["product"],
                    quantity=form.cleaned_data["quantity"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
        else:
            messages.error(request, _("Enter a quantity of 0 or more."))
        return redirect("inventory:cart")
    if request.method == "POST" and branch_form.is_valid():
        try:
            order = services.shop_order_place(
                member=member, branch=branch_form.cleaned_data["branch"]
            )
        except ServiceError as exc:
            branch_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your order is reserved. Pay to confirm it."))
            return redirect("inventory:order", pk=order.pk)
    items = selectors.cart_items(member=member)
    return render(
        request,
        "inventory/cart.html",
        {
            "items": items,
            "total": selectors.cart_total(items),
            "currency": items[0].product.currency if items else "",
            "line_limit": services.CART_LINE_LIMIT,
            "branch_form": branch_form,
            "member": member,
        },
    )


@member_page
def order_list(request, member):
    return render(
        request, "inventory/orders.html", {"orders": selectors.member_orders(member=member)[:50]}
    )


@member_page
def order_detail(request, member, pk):
    order = selectors.order_for_member(member=member, pk=pk)
    if order is None:
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("action") == "pay":
                services.order_pay_online(order=order)
                messages.success(request, _("Paid. We will have it ready at the desk."))
            elif request.POST.get("action") == "cancel":
                services.order_cancel(order=order, actor=request.user)
                messages.success(request, _("Order cancelled."))
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("inventory:order", pk=order.pk)
    return render(request, "inventory/order_detail.html", {"order": order})


@member_page
def flash_sale(request, member, pk):
    state = selectors.flash_sale_state(sale_id=pk)
    if state is None:
        raise Http404
    sale: FlashSale = state.sale
    form = BuyForm(request.POST or None, sale=sale)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.flash_sale_buy(
                sale=sale,
                member=member,
                quantity=form.cleaned_data["quantity"],
                branch=form.cleaned_data.get("branch"),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Reserved! Pay within %(minutes)s minutes to keep it.")
                % {"minutes": sale.hold_minutes},
            )
            return redirect("inventory:order", pk=order.pk)
    return render(
        request,
        "inventory/flash_sale.html",
        {
            "state": state,
            "sale": sale,
            "form": form,
            "used": selectors.member_allowance_used(sale=sale, member=member),
        },
    )


@staff_page
def pos(request):
    form = PosSaleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.pos_sale_create(
                branch=data["branch"],
                items=data["items"],
                member=data.get("member"),
                payment=data["payment"],
                provider=data.get("provider") or "manual",
                reference=data.get("reference") or "",
                customer_name=data.get("customer_name") or "",
                customer_email=data.get("customer_email") or "",
                actor=request.user,
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Sale %(number)s recorded.") % {"number": order.number})
            return redirect("inventory:pos_order", pk=order.pk)
    recent = selectors._order_queryset().filter(channel="pos")[:10]
    prices = {
        str(p.pk): str(p.price)
        for p in Product.objects.filter(status=Product.Status.ACTIVE).only("pk", "price", "sku")
    }
    skus = {
        p.sku.lower(): str(p.pk)
        for p in Product.objects.filter(status=Product.Status.ACTIVE).only("pk", "sku")
    }
    return render(
        request,
        "inventory/pos.html",
        {"form": form, "recent": recent, "till_data": {"prices": prices, "skus": skus}},
    )


@staff_page
def pos_members(request):
    """Suggestions for the till's member field, as the staff member types."""
    text = request.GET.get("q", "")
    found = selectors.member_matches(text)[:10] if len(text.strip()) >= 2 else []
    return JsonResponse(
        {
            "results": [
                {"id": m.pk, "label": f"{m.full_name} · {m.email}" if m.email else m.full_name}
                for m in found
            ]
        }
    )


@staff_page
def pos_order(request, pk):
    order = selectors.order_get(pk=pk)
    if order is None:
        raise Http404
    return_form = ReturnForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "collect":
                services.order_collect(order=order, actor=request.user)
                messages.success(request, _("Handed over."))
                return redirect("inventory:pos_order", pk=order.pk)
            if action == "pay":
                services.order_pay_at_desk(order=order, actor=request.user)
                messages.success(request, _("Payment recorded."))
                return redirect("inventory:pos_order", pk=order.pk)
            if action == "return" and return_form.is_valid():
                line = order.lines.filter(pk=return_form.cleaned_data["line"]).first()
                if line is None:
                    raise Http404
                services.order_line_return(
                    line=line,
                    quantity=return_form.cleaned_data["quantity"],
                    reason=return_form.cleaned_data["reason"],
                    restock=return_form.cleaned_data["restock"],
                    actor=request.user,
                )
                messages.success(request, _("Return recorded."))
                return redirect("inventory:pos_order", pk=order.pk)
        except ServiceError as exc:
            if action == "return":
                return_form.add_error(
                    exc.field if exc.field in return_form.fields else None, exc.message
                )
            else:
                messages.error(request, exc.message)
    return render(request, "inventory/pos_order.html", {"order": order, "return_form": return_form})
