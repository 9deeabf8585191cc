"""Portal pages, included in billing/urls.py (namespace "billing")."""

from django.urls import path

from billing.stripe import portal

urlpatterns = [
    path("invoices/<int:pk>/card/", portal.pay_by_card, name="stripe_pay"),
    path("invoices/<int:pk>/card/done/", portal.checkout_return, name="stripe_return"),
]
