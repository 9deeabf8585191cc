from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("cart/", views.cart, name="cart"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("sales/<int:pk>/", views.flash_sale, name="flash_sale"),
    path("pos/", views.pos, name="pos"),
    path("pos/members/", views.pos_members, name="pos_members"),
    path("pos/orders/<int:pk>/", views.pos_order, name="pos_order"),
]
