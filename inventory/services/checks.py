"""Input checks shared by the retail services: each raises, none writes."""

from __future__ import annotations

from accounts.models import Branch
from accounts.tenancy import require_scope
from gymsite.errors import NotAllowed, ServiceError
from inventory.models import Product

MAX_LINE_QUANTITY = 1000
MAX_STOCK_QUANTITY = 1_000_000


def _positive_quantity(
    quantity, *, field: str = "quantity", maximum: int = MAX_LINE_QUANTITY
) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            raise ServiceError(
                "Quantity must be a whole number.", code="invalid_quantity", field=field
            ) from None
    if quantity < 1:
        raise ServiceError("Quantity must be at least 1.", code="invalid_quantity", field=field)
    if quantity > maximum:
        raise ServiceError("That quantity is too large.", code="invalid_quantity", field=field)
    return quantity


def _active_product(product: Product) -> Product:
    if product.status != Product.Status.ACTIVE:
        raise ServiceError(
            f"{product.name} is no longer on sale.", code="product_unavailable", field="product"
        )
    return product


def _active_branch(branch: Branch) -> Branch:
    if not branch.is_active:
        raise ServiceError(f"{branch.name} is closed.", code="branch_closed", field="branch")
    return branch


def _check_branch_allowed(branch: Branch) -> None:
    scope = require_scope()
    if branch.organisation_id != scope.organisation_id or not scope.allows_branch(branch.pk):
        raise NotAllowed("You cannot sell at this branch.", code="branch_not_allowed")
