from django.urls import include, path

from billing import views

app_name = "billing"

urlpatterns = [
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<int:pk>/", views.invoice, name="invoice"),
    path("invoices/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("invoices/<int:pk>/pay/", views.pay, name="pay"),
    path("payment-methods/test-card/", views.add_test_card, name="add_test_card"),
    path("", include("billing.stripe.portal_urls")),
]
