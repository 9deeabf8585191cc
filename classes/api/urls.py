from django.urls import path

from classes.api import views

urlpatterns = [
    path("classes", views.ClassSessionListView.as_view(), name="api-classes"),
    path("classes/<int:pk>", views.ClassSessionDetailView.as_view(), name="api-class"),
    path("classes/<int:pk>/book", views.ClassSessionBookView.as_view(), name="api-class-book"),
]
