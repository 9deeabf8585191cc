from django.urls import path

from accounts import pwa, views

app_name = "portal"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("branches/", views.branches, name="branches"),
    path("portal/", views.home, name="home"),
    path("portal/join/", views.join, name="join"),
    path("portal/profile/", views.profile, name="profile"),
    path("portal/household/", views.household, name="household"),
    path("trainer/", views.trainer_home, name="trainer"),
    path("gyms/", views.gyms, name="gyms"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("app-icon-<int:size>.png", pwa.app_icon, name="app_icon"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("brand.css", pwa.brand_css, name="brand_css"),
]
