"""Demo data: a retail catalogue with stock at every branch (its ledger included), some
past till sales for the reports, one flash sale running and one opening soon."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Branch, Role, RoleAssignment
from inventory.models import Category, FlashSale, Order, OrderLine, Product, Stock, StockMovement
from inventory.services.orders import _price_line

CATALOGUE = {
    ("Drinks", "drinks"): [
        ("DRK-WATER", "Still water 750 ml", "1.00"),
        ("DRK-ISO-CIT", "Isotonic drink, citrus", "1.80"),
        ("DRK-ISO-BER", "Isotonic drink, berry", "1.80"),
        ("DRK-COFFEE", "Cold brew coffee", "2.50"),
        ("DRK-PROT-CHOC", "Protein shake, chocolate", "3.20"),
    ],
    ("Supplements", "supplements"): [
        ("SUP-WHEY-1KG", "Whey protein 1 kg, vanilla", "24.99"),
        ("SUP-VEGAN-1KG", "Vegan protein 1 kg", "27.50"),
        ("SUP-CREATINE", "Creatine monohydrate 300 g", "14.99"),
        ("SUP-BAR-PB", "Protein bar, peanut butter", "2.10"),
        ("SUP-ELECTRO", "Electrolyte tablets (20)", "6.50"),
    ],
    ("Apparel", "apparel"): [
        ("APP-TEE-M", "Spotter training tee (M)", "18.00"),
        ("APP-TEE-L", "Spotter training tee (L)", "18.00"),
        ("APP-HOODIE", "Spotter hoodie", "38.00"),
        ("APP-SOCKS", "Grip socks", "9.00"),
    ],
    ("Accessories", "accessories"): [
        ("ACC-BOTTLE", "Steel water bottle", "15.00"),
        ("ACC-TOWEL", "Microfibre gym towel", "8.50"),
        ("ACC-LOCK", "Padlock", "6.00"),
        ("ACC-BANDS", "Resistance bands set", "19.00"),
        ("ACC-MAT", "Yoga mat", "29.00"),
    ],
}
DAY_PASS = ("PASS-DAY", "Day pass", "12.50")


def seed(*, organisation, rng: random.Random) -> None:
    if Product.objects.exists():
        return
    now = timezone.now()
    branches = list(Branch.objects.filter(is_active=True).order_by("pk"))
    if not branches:
        return
    products = []
    for position, ((name, slug), items) in enumerate(CATALOGUE.items()):
        category = Category.objects.create(name=name, slug=slug, position=position)
        for sku, title, price in items:
            products.append(
                Product(
                    category=category,
                    sku=sku,
                    name=title,
                    description=f"{title}. Available at the front desk and for pickup.",
                    price=Decimal(price),
                    currency=organisation.currency,
                    low_stock_threshold=5,
                )
            )
    passes = Category.objects.create(name="Passes", slug="passes", position=len(CATALOGUE))
    products.append(
        Product(
            category=passes,
            sku=DAY_PASS[0],
            name=DAY_PASS[1],
            kind=Product.Kind.DAY_PASS,
            price=Decimal(DAY_PASS[2]),
            currency=organisation.currency,
            low_stock_threshold=0,
        )
    )
    products = Product.objects.bulk_create(products)
    goods = [product for product in products if product.tracks_stock]

    desk_by_branch = dict(
        RoleAssignment.objects.filter(role=Role.FRONT_DESK).values_list("branch_id", "user_id")
    )
    received = {(p.pk, b.pk): rng.randint(25, 80) for p in goods for b in branches}
    # A few weeks of till sales, so the sales report has something to say.
    orders, sales = [], []
    for day in range(21, 0, -1):
        for branch in branches:
            for _ in range(rng.randint(2, 5)):
                basket = rng.sample(goods, rng.randint(1, 3))
                when = now - timedelta(days=day, hours=rng.randint(1, 10))
                orders.append(
                    Order(
                        number=f"R-DEMO-{len(orders) + 1:05d}",
                        channel=Order.Channel.POS,
                        status=Order.Status.COLLECTED,
                        payment=Order.Payment.PAID_NOW,
                        payment_provider="manual",
                        branch=branch,
                        currency=organisation.currency,
                        created_at=when,
                        paid_at=when,
                        collected_at=when,
                        created_by_id=desk_by_branch.get(branch.pk),
                    )
                )
                sales.append([(product, rng.randint(1, 2)) for product in basket])
    orders = Order.objects.bulk_create(orders)
    lines, movements, sold = [], [], {}
    for order, basket in zip(orders, sales, strict=True):
        subtotal = tax = Decimal("0.00")
        for product, quantity in basket:
            key = (product.pk, order.branch_id)
            if received[key] - sold.get(key, 0) < quantity:
                continue
            sold[key] = sold.get(key, 0) + quantity
            priced = _price_line(
                unit_price=product.price, quantity=quantity, tax_rate=order.branch.tax_rate
            )
            subtotal += priced.subtotal
            tax += priced.tax_amount
            lines.append(
                OrderLine(
                    order=order,
                    product=product,
                    description=product.name,
                    quantity=quantity,
                    unit_price=product.price,
                    tax_rate=order.branch.tax_rate,
                    subtotal=priced.subtotal,
                    tax_amount=priced.tax_amount,
                    line_total=priced.total,
                )
            )
            movements.append((key, order, quantity))
        order.subtotal, order.tax_total, order.total = subtotal, tax, subtotal + tax
    Order.objects.bulk_update(orders, ["subtotal", "tax_total", "total"])
    OrderLine.objects.bulk_create(lines)

    stocks = Stock.objects.bulk_create(
        Stock(product_id=p, branch_id=b, on_hand=units - sold.get((p, b), 0))
        for (p, b), units in received.items()
    )
    stock_ids = {(s.product_id, s.branch_id): s.pk for s in stocks}
    delivery = now - timedelta(days=30)
    ledger = [
        StockMovement(
            stock_id=stock_ids[key],
            product_id=key[0],
            branch_id=key[1],
            kind=StockMovement.Kind.RECEIVED,
            on_hand_delta=units,
            reason="opening stock delivery",
            created_at=delivery,
        )
        for key, units in received.items()
    ]
    ledger += [
        StockMovement(
            stock_id=stock_ids[key],
            product_id=key[0],
            branch_id=key[1],
            kind=StockMovement.Kind.SOLD,
            on_hand_delta=-quantity,
            order=order,
            actor_id=order.created_by_id,
            reason="front desk sale",
            created_at=order.created_at,
        )
        for key, order, quantity in movements
    ]
    StockMovement.objects.bulk_create(ledger)

    whey = next(p for p in goods if p.sku == "SUP-WHEY-1KG")
    hoodie = next(p for p in goods if p.sku == "APP-HOODIE")
    FlashSale.objects.bulk_create(
        [
            FlashSale(
                product=whey,
                branch=branches[0],
                title="Whey Wednesday: half price",
                sale_price=Decimal("12.49"),
                starts_at=now - timedelta(minutes=30),
                ends_at=now + timedelta(hours=6),
                quantity=20,
                remaining=20,
                per_member_limit=2,
                hold_minutes=15,
            ),
            FlashSale(
                product=hoodie,
                branch=None,
                title="Hoodie drop: 40% off at every branch",
                sale_price=Decimal("22.80"),
                starts_at=now + timedelta(hours=2),
                ends_at=now + timedelta(hours=26),
                quantity=30,
                remaining=30,
                per_member_limit=1,
                hold_minutes=10,
            ),
        ]
    )
