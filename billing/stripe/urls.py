"""Included under /api/v1/ (gymsite/api/urls.py)."""

from django.urls import path

from billing.stripe import api, views

urlpatterns = [
    path("payments/webhook/stripe", views.stripe_webhook, name="stripe-webhook"),
    path("payments/webhook/stripe/<slug:slug>", views.stripe_webhook, name="stripe-webhook-gym"),
    path(
        "invoices/<int:pk>/stripe-intent",
        api.InvoiceStripeIntentView.as_view(),
        name="api-invoice-stripe-intent",
    ),
]
