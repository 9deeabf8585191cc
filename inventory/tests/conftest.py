import pytest

from accounts.tenancy import tenant_scope
from inventory import services
from inventory.tests.factories import ProductFactory


@pytest.fixture
def product(gym):
    return ProductFactory(category__organisation=gym, name="Whey 1kg", price="30.00")


@pytest.fixture
def stocked(product, branch, owner):
    """The product with 20 units received at the North branch."""
    with tenant_scope(product.organisation):
        services.stock_receive(product=product, branch=branch, quantity=20, actor=owner)
    return product


@pytest.fixture(autouse=True)
def _sandbox_provider(settings):
    settings.BILLING_SANDBOX_ENABLED = True
