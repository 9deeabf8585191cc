"""The class timetable pages at /classes/: the member schedule, a class's page and its
book button, the trainer's classes and rosters. They are booking pages, so they live
here; they keep the ``classes:`` URL names they have always had."""

from django.urls import path

from bookings import class_views as views

app_name = "classes"

urlpatterns = [
    path("", views.schedule, name="schedule"),
    path("timetable/", views.timetable, name="timetable"),
    path("counts/", views.session_counts, name="counts"),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/book/", views.book, name="book"),
    path("trainer/", views.trainer_schedule, name="trainer_schedule"),
    path("trainer/<int:pk>/", views.trainer_roster, name="trainer_roster"),
    path("trainer/<int:pk>/mark/<int:booking_id>/", views.trainer_mark, name="trainer_mark"),
]
