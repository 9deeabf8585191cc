from django.urls import path

from access import views

app_name = "access"

urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/occupancy/", views.desk_occupancy, name="desk_occupancy"),
    path("desk/checkin/", views.desk_checkin, name="desk_checkin"),
    path("desk/manual/", views.desk_manual, name="desk_manual"),
    path("desk/checkout/", views.desk_checkout, name="desk_checkout"),
    path("visits/", views.my_visits, name="my_visits"),
    path("my-code/", views.my_code, name="my_code"),
    path("my-code/current/", views.my_code_fragment, name="my_code_fragment"),
    path("my-code/renew/", views.my_code_rotate, name="my_code_rotate"),
]
