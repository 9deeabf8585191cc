from django.urls import path

from assistant.api import views

urlpatterns = [path("assistant", views.AssistantView.as_view(), name="api-assistant")]
