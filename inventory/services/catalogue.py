"""The catalogue: categories and products (archived, never deleted)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from accounts.models import User
from accounts.services import audit_record
from gymsite.errors import ServiceError
from gymsite.money import quantize
from inventory.models import CartItem, Category, Product


@transaction.atomic
def category_create(*, name: str, slug: str, position: int = 0) -> Category:
    if Category.objects.filter(slug=slug).exists():
        raise ServiceError("A category with this slug exists.", code="duplicate", field="slug")
    return Category.objects.create(name=name.strip(), slug=slug, position=position)


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    kind: str = Product.Kind.GOODS,
    description: str = "",
    tax_rate: Decimal | None = None,
    low_stock_threshold: int = 5,
    image=None,
    actor: User | None = None,
) -> Product:
    sku = sku.strip().upper()
    if not sku:
        raise ServiceError("A SKU is required.", code="required", field="sku")
    if Decimal(price) < 0:
        raise ServiceError("A price cannot be negative.", code="invalid_price", field="price")
    if Product.objects.filter(sku=sku).exists():
        raise ServiceError("Another product has this SKU.", code="duplicate_sku", field="sku")
    product = Product(
        sku=sku,
        name=name.strip(),
        category=category,
        price=quantize(Decimal(price)),
        currency=category.organisation.currency if category.organisation_id else "EUR",
        kind=kind,
        description=description,
        tax_rate=tax_rate,
        low_stock_threshold=low_stock_threshold,
    )
    if image:
        product.image = image
    product.save()
    if actor is not None:
        audit_record(actor=actor, action="product.create", target=product)
    return product


@transaction.atomic
def product_archive(*, product: Product, actor: User | None) -> Product:
    """Soft delete: the product leaves the catalogue; its sales and ledger stay."""
    product.status = Product.Status.ARCHIVED
    product.save(update_fields=["status"])
    CartItem.objects.filter(product=product).delete()
    audit_record(actor=actor, action="product.archive", target=product)
    return product
