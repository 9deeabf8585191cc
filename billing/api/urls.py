from django.urls import path

from billing.api import views

urlpatterns = [
    path("invoices", views.InvoiceListView.as_view(), name="api-invoices"),
    path("invoices/<int:pk>/pay", views.InvoicePayView.as_view(), name="api-invoice-pay"),
]
