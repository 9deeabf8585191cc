"""Included under /api/v1/ (gymsite/api/urls.py)."""

from django.urls import path

from billing.stripe import views

urlpatterns = [
    path("payments/webhook/stripe", views.stripe_webhook, name="stripe-webhook"),
    path("payments/webhook/stripe/<slug:slug>", views.stripe_webhook, name="stripe-webhook-gym"),
]
