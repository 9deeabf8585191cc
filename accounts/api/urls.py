from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/token", views.LoginView.as_view(), name="api-token"),
    path("auth/token/refresh", views.RefreshView.as_view(), name="api-token-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="api-logout"),
    path("me", views.MeView.as_view(), name="api-me"),
    path("branches", views.BranchListView.as_view(), name="api-branches"),
    path("branches/nearest", views.NearestBranchesView.as_view(), name="api-branches-nearest"),
]
