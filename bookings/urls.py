from django.urls import path

from bookings import views

app_name = "bookings"

urlpatterns = [
    path("", views.my_bookings, name="mine"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", views.calendar, name="calendar"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("trainer/availability/", views.trainer_availability, name="trainer_availability"),
    path(
        "trainer/availability/<int:pk>/delete/",
        views.trainer_availability_delete,
        name="trainer_availability_delete",
    ),
    path("trainer/appointments/<int:pk>/", views.trainer_appointment, name="trainer_appointment"),
    path(
        "trainer/appointments/<int:pk>/mark/",
        views.trainer_appointment_mark,
        name="trainer_appointment_mark",
    ),
]
