from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("trainer/pay/", views.my_pay, name="my_pay"),
    path("desk/shifts/", views.desk_shifts, name="desk_shifts"),
]
