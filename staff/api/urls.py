from django.urls import path

from staff.api import views

urlpatterns = [
    path("staff/me/schedule", views.MyScheduleView.as_view(), name="api-staff-schedule"),
    path("staff/me/pay-lines", views.MyPayLinesView.as_view(), name="api-staff-pay-lines"),
    path("staff/invitations", views.InvitationListView.as_view(), name="api-staff-invitations"),
    path(
        "staff/invitations/<int:pk>/resend",
        views.InvitationActionView.as_view(action_name="resend"),
        name="api-staff-invitation-resend",
    ),
    path(
        "staff/invitations/<int:pk>/revoke",
        views.InvitationActionView.as_view(action_name="revoke"),
        name="api-staff-invitation-revoke",
    ),
]
