from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.home, name="home"),
    path("start", views.workout_start, name="start"),
    path("workouts/", views.history, name="history"),
    path("workouts/<int:pk>/", views.workout, name="workout"),
    path("workouts/<int:pk>/finish", views.workout_finish, name="finish"),
    path("workouts/<int:pk>/comment", views.workout_comment, name="comment"),
    path("progress/", views.progress, name="progress"),
    path("photos/", views.photos, name="photos"),
    path("photos/<int:pk>", views.photo, name="photo"),
    path("nutrition/", views.nutrition, name="nutrition"),
    path("exercises/", views.exercises, name="exercises"),
    path("exercises/new", views.exercise_new, name="exercise_new"),
    path("exercises/<int:pk>/", views.exercise_detail, name="exercise"),
    path("plans/", views.my_plans, name="my_plans"),
    path("plans/<int:pk>/", views.plan, name="plan"),
    path("coach/clients/", views.clients, name="clients"),
    path("coach/clients/<int:member_id>/", views.client, name="client"),
    path("coach/plans/", views.coach_plans, name="coach_plans"),
]
