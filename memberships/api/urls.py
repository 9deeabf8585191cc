from django.urls import path

from memberships.api import views

urlpatterns = [
    path("plans", views.PlanListView.as_view(), name="api-plans"),
    path("members/<int:pk>", views.MemberDetailView.as_view(), name="api-member"),
    path(
        "members/<int:pk>/memberships",
        views.MemberMembershipsView.as_view(),
        name="api-member-memberships",
    ),
    path(
        "memberships/<int:pk>/freeze",
        views.MembershipFreezeView.as_view(),
        name="api-membership-freeze",
    ),
    path(
        "memberships/<int:pk>/cancel",
        views.MembershipCancelView.as_view(),
        name="api-membership-cancel",
    ),
]
