from django.urls import path

from inventory.api import views

urlpatterns = [
    path("shop/products", views.ProductListView.as_view(), name="api-shop-products"),
    path("shop/cart", views.CartView.as_view(), name="api-shop-cart"),
    path("shop/orders", views.OrderListView.as_view(), name="api-shop-orders"),
    path("shop/orders/<int:pk>", views.OrderDetailView.as_view(), name="api-shop-order"),
    path("shop/orders/<int:pk>/pay", views.OrderPayView.as_view(), name="api-shop-order-pay"),
    path(
        "shop/orders/<int:pk>/cancel", views.OrderCancelView.as_view(), name="api-shop-order-cancel"
    ),
    path("flash-sales", views.FlashSaleListView.as_view(), name="api-flash-sales"),
    path(
        "flash-sales/<int:pk>/status",
        views.FlashSaleStatusView.as_view(),
        name="api-flash-sale-status",
    ),
    path("flash-sales/<int:pk>/buy", views.FlashSaleBuyView.as_view(), name="api-flash-sale-buy"),
    path("pos/sales", views.PosSaleView.as_view(), name="api-pos-sales"),
]
