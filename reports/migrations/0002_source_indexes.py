"""Indexes the rollups read the source tables by: each source row's local day (issued,
paid, refunded…) and the fold's "changed since" expressions. They live here, beside the
queries that need them, so the domain apps stay unaware of reports (docs/reports.md)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("accounts", "0001_initial"),
        ("billing", "0053_stripe_event_per_account"),
        ("bookings", "0004_appointment_price"),
        ("classes", "0003_session_moved_at"),
        ("inventory", "0007_leaner_purchase_indexes"),
        ("memberships", "0002_lifecycle"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_src_invoice_issued ON billing_invoice (organisation_id, issued_at)",
            "DROP INDEX IF EXISTS reports_src_invoice_issued",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_invoice ON billing_invoice (organisation_id, GREATEST(issued_at, voided_at, paid_at))",
            "DROP INDEX IF EXISTS reports_chg_invoice",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_src_payment_done ON billing_payment (organisation_id, COALESCE(completed_at, created_at))",
            "DROP INDEX IF EXISTS reports_src_payment_done",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_payment ON billing_payment (organisation_id, GREATEST(created_at, completed_at))",
            "DROP INDEX IF EXISTS reports_chg_payment",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_src_creditnote ON billing_creditnote (organisation_id, created_at)",
            "DROP INDEX IF EXISTS reports_src_creditnote",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_src_refund_done ON billing_refund (organisation_id, COALESCE(completed_at, created_at))",
            "DROP INDEX IF EXISTS reports_src_refund_done",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_refund ON billing_refund (organisation_id, GREATEST(created_at, completed_at))",
            "DROP INDEX IF EXISTS reports_chg_refund",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_booking ON bookings_booking (organisation_id, GREATEST(created_at, cancelled_at, promoted_at, attendance_marked_at))",
            "DROP INDEX IF EXISTS reports_chg_booking",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_appointment ON bookings_appointment (organisation_id, GREATEST(created_at, cancelled_at, attendance_marked_at))",
            "DROP INDEX IF EXISTS reports_chg_appointment",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_membership ON memberships_membership (organisation_id, updated_at)",
            "DROP INDEX IF EXISTS reports_chg_membership",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_src_order_paid ON inventory_order (organisation_id, COALESCE(paid_at, created_at))",
            "DROP INDEX IF EXISTS reports_src_order_paid",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_order ON inventory_order (organisation_id, GREATEST(created_at, paid_at, collected_at))",
            "DROP INDEX IF EXISTS reports_chg_order",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_chg_session ON classes_classsession (organisation_id, created_at)",
            "DROP INDEX IF EXISTS reports_chg_session",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_src_member_joined ON accounts_member (organisation_id, joined_at)",
            "DROP INDEX IF EXISTS reports_src_member_joined",
        ),
    ]
