from django.urls import path

from training.api import views

urlpatterns = [
    path("training/exercises", views.ExerciseListView.as_view(), name="api-training-exercises"),
    path("training/plans", views.PlanListView.as_view(), name="api-training-plans"),
    path("training/plans/<int:pk>", views.PlanDetailView.as_view(), name="api-training-plan"),
    path(
        "training/plans/<int:pk>/exercises",
        views.PlanExerciseAddView.as_view(),
        name="api-training-plan-exercises",
    ),
    path("training/today", views.TodayView.as_view(), name="api-training-today"),
    path("training/workouts", views.WorkoutListView.as_view(), name="api-training-workouts"),
    path(
        "training/workouts/start",
        views.WorkoutStartView.as_view(),
        name="api-training-workout-start",
    ),
    path(
        "training/workouts/sync", views.WorkoutSyncView.as_view(), name="api-training-workout-sync"
    ),
    path("training/sets", views.SetLogView.as_view(), name="api-training-sets"),
    path("training/metrics", views.MetricListView.as_view(), name="api-training-metrics"),
    path("training/records", views.RecordListView.as_view(), name="api-training-records"),
]
