"""Shop, flash sales and front-desk sales for the mobile app. Thin: parse, call, render."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Branch, Member
from accounts.selectors import is_staff_in, staff_scope_for
from accounts.tenancy import get_scope, reset_scope, set_scope
from gymsite.api.serializers import validated_input
from gymsite.errors import NotAllowed, ServiceError
from inventory import selectors, services
from inventory.api.serializers import (
    BuySerializer,
    CartItemOutSerializer,
    CartSetSerializer,
    FlashSaleSerializer,
    FlashSaleStateSerializer,
    HeldOrderSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PosSaleSerializer,
    ProductSerializer,
)
from inventory.models import Product


def _member(request) -> Member:
    member = selectors.member_for_purchase(user=request.user)
    if member is None:
        raise NotAllowed("You are not a member of this gym.", code="not_member")
    return member


def _branch(branch_id: int, *, field: str = "branch") -> Branch:
    branch = Branch.objects.filter(pk=branch_id, is_active=True).first()
    if branch is None:
        raise ServiceError("Unknown branch.", code="unknown_branch", field=field)
    return branch


def _product(product_id: int) -> Product:
    product = selectors.product_get(pk=product_id)
    if product is None:
        raise ServiceError("Unknown product.", code="unknown_product", field="product")
    return product


class ProductListView(generics.ListAPIView):
    """The catalogue; with ?branch= each product says how many units are free there."""

    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("branch", int, required=False),
            OpenApiParameter("category", int, required=False),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        branch = category = None
        if self.request.query_params.get("branch", "").isdigit():
            branch = _branch(int(self.request.query_params["branch"]))
        if self.request.query_params.get("category", "").isdigit():
            category = (
                selectors.category_list().filter(pk=self.request.query_params["category"]).first()
            )
        return selectors.product_catalogue(branch=branch, category=category)


class CartView(APIView):
    @extend_schema(responses=CartItemOutSerializer(many=True))
    def get(self, request):
        items = selectors.cart_items(member=_member(request))
        return Response(CartItemOutSerializer(items, many=True).data)

    @extend_schema(request=CartSetSerializer, responses=CartItemOutSerializer(many=True))
    def post(self, request):
        """Set a product's quantity in the cart (0 removes it)."""
        member = _member(request)
        data = CartSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_set(
            member=member,
            product=_product(data.validated_data["product"]),
            quantity=data.validated_data["quantity"],
        )
        return Response(CartItemOutSerializer(selectors.cart_items(member=member), many=True).data)


class OrderListView(APIView):
    @extend_schema(responses=OrderSerializer(many=True))
    def get(self, request):
        orders = selectors.member_orders(member=_member(request))[:50]
        return Response(OrderSerializer(orders, many=True).data)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer})
    def post(self, request):
        """Order for pickup at a branch: the items (or the cart) are held until paid."""
        member = _member(request)
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = None
        if data.validated_data.get("items"):
            items = [
                (_product(item["product"]), item["quantity"])
                for item in data.validated_data["items"]
            ]
        order = services.shop_order_place(
            member=member, branch=_branch(data.validated_data["branch"]), items=items
        )
        order = selectors.order_get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    def _order(self, request, pk):
        order = selectors.order_for_member(member=_member(request), pk=pk)
        if order is None:
            raise Http404
        return order

    @extend_schema(responses=OrderSerializer)
    def get(self, request, pk):
        return Response(OrderSerializer(self._order(request, pk)).data)


class OrderPayView(OrderDetailView):
    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request, pk):
        """Pay a held order with the saved card."""
        order = services.order_pay_online(order=self._order(request, pk))
        return Response(OrderSerializer(selectors.order_get(pk=order.pk)).data)


class OrderCancelView(OrderDetailView):
    @extend_schema(request=None, responses=OrderSerializer)
    def post(self, request, pk):
        order = services.order_cancel(order=self._order(request, pk), actor=request.user)
        return Response(OrderSerializer(selectors.order_get(pk=order.pk)).data)


class FlashSaleListView(generics.ListAPIView):
    """Sales open now or coming up, with the units left."""

    permission_classes = [AllowAny]
    serializer_class = FlashSaleSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.flash_sale_list()


class FlashSaleStatusView(APIView):
    """The live state the sale page polls: status, units left, seconds to open/close."""

    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(responses=FlashSaleStateSerializer)
    def get(self, request, pk):
        state = selectors.flash_sale_state(sale_id=pk)
        if state is None:
            raise Http404
        response = Response(FlashSaleStateSerializer(state).data)
        response["Cache-Control"] = "no-store"
        return response


class FlashSaleBuyView(APIView):
    """Buy: reserves the units at once and holds them for the sale's hold time.

    201 with the held order; 409 ``sold_out`` / ``over_limit``; 400 for bad input or a
    sale that is not open.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(request=BuySerializer, responses={201: HeldOrderSerializer})
    def post(self, request, pk):
        # Checked by BuySerializer's declared fields: no serializer built per request.
        data = validated_input(BuySerializer, request.data)
        sale = selectors.flash_sale_for_purchase(pk=pk)
        if sale is None:
            raise ServiceError("Unknown sale.", code="unknown_sale")
        branch = None
        if data.get("branch"):
            branch = _branch(data["branch"])
        # The purchase statement finds the signed-in person's member record itself.
        order = services.flash_sale_buy(
            sale=sale, user=request.user, quantity=data["quantity"], branch=branch
        )
        # Written out (not a ModelSerializer) because this is the hot path of a rush.
        body = {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "branch": order.branch_id,
            "flash_sale": order.flash_sale_id,
            "total": str(order.total),
            "currency": order.currency,
            "expires_at": order.expires_at.isoformat().replace("+00:00", "Z"),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class PosSaleView(APIView):
    """Front desk: sell products and day passes (staff of the branch only)."""

    @extend_schema(request=PosSaleSerializer, responses={201: OrderSerializer})
    def post(self, request):
        scope = get_scope()
        if scope is None or not is_staff_in(
            user=request.user, organisation_id=scope.organisation_id
        ):
            raise NotAllowed("Front-desk staff only.")
        if not request.user.has_perm("inventory.add_order"):
            raise NotAllowed("You cannot record sales.")
        data = PosSaleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        token = set_scope(staff_scope_for(user=request.user, organisation_id=scope.organisation_id))
        try:
            member = None
            if values.get("member"):
                member = Member.objects.filter(pk=values["member"]).first()
                if member is None:
                    raise ServiceError("Unknown member.", code="unknown_member", field="member")
            order = services.pos_sale_create(
                branch=_branch(values["branch"]),
                items=[(_product(i["product"]), i["quantity"]) for i in values["items"]],
                member=member,
                payment=values["payment"],
                provider=values["provider"],
                reference=values["reference"],
                customer_name=values["customer_name"],
                customer_email=values["customer_email"],
                actor=request.user,
            )
            body = OrderSerializer(selectors.order_get(pk=order.pk)).data
        finally:
            reset_scope(token)
        return Response(body, status=status.HTTP_201_CREATED)
