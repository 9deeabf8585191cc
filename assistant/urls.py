from django.urls import path

from assistant import views

app_name = "assistant"

urlpatterns = [
    path("", views.member_chat, name="chat"),
    path("team/", views.team_chat, name="team_chat"),
]
