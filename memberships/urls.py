from django.urls import path

from memberships import views

app_name = "memberships"

urlpatterns = [
    path("", views.my_memberships, name="mine"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:plan_id>/join/", views.join, name="join"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/freeze/", views.freeze, name="freeze"),
    path("<int:pk>/unfreeze/", views.unfreeze, name="unfreeze"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/cancel/withdraw/", views.cancel_withdraw, name="cancel_withdraw"),
    path("<int:pk>/change/", views.change_plan, name="change"),
]
