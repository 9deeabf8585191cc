from django.urls import path

from bookings.api import class_views, views

urlpatterns = [
    path("classes", class_views.ClassSessionListView.as_view(), name="api-classes"),
    path("classes/<int:pk>", class_views.ClassSessionDetailView.as_view(), name="api-class"),
    path(
        "classes/<int:pk>/book",
        class_views.ClassSessionBookView.as_view(),
        name="api-class-book",
    ),
    path("bookings", views.BookingListView.as_view(), name="api-bookings"),
    path("bookings/<int:pk>", views.BookingDetailView.as_view(), name="api-booking"),
    path(
        "bookings/<int:pk>/waitlist-position",
        views.BookingWaitlistPositionView.as_view(),
        name="api-booking-waitlist-position",
    ),
    path("bookings/<int:pk>/cancel", views.BookingCancelView.as_view(), name="api-booking-cancel"),
    path(
        "appointment-services",
        views.AppointmentServiceListView.as_view(),
        name="api-appointment-services",
    ),
    path("appointments", views.AppointmentListView.as_view(), name="api-appointments"),
    path("appointments/slots", views.AppointmentSlotsView.as_view(), name="api-appointment-slots"),
    path(
        "appointments/<int:pk>/cancel",
        views.AppointmentCancelView.as_view(),
        name="api-appointment-cancel",
    ),
]
