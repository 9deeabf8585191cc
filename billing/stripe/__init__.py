"""Stripe payments: the provider, per-gym keys, webhooks (the source of truth) and
reconciliation. See docs/stripe.md."""
