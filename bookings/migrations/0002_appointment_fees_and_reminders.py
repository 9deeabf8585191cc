"""Late-cancellation and no-show fees and reminders for appointments.

Schema only going forward: existing services keep their cut-off, their new fee and
reminder fields start empty (the gym's default booking rules). Going back, a
cut-off left empty is filled with the gym's default rule (else 24 hours) before the
column becomes NOT NULL again, so the reverse never fails and loses nothing that
the old schema could hold.
"""

import django.core.validators
from django.db import migrations, models


def fill_empty_cutoffs(apps, schema_editor):
    service_model = apps.get_model("bookings", "AppointmentService")
    policy_model = apps.get_model("bookings", "BookingPolicy")
    defaults = dict(
        policy_model.objects.filter(class_type__isnull=True).values_list(
            "organisation_id", "cancellation_cutoff_minutes"
        )
    )
    for service in service_model.objects.filter(cancellation_cutoff_minutes__isnull=True):
        service.cancellation_cutoff_minutes = defaults.get(service.organisation_id, 24 * 60)
        service.save(update_fields=["cancellation_cutoff_minutes"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("bookings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="attendance_marked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="appointment",
            name="fee_charged",
            field=models.DecimalField(
                decimal_places=2,
                default=0,
                editable=False,
                max_digits=12,
                verbose_name="fee charged",
            ),
        ),
        migrations.AddField(
            model_name="appointment",
            name="reminder_sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="appointmentservice",
            name="late_cancel_fee",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Charged on the next invoice when cancelled after the free cancellation time. Empty: the gym's default booking rules apply (their fee, if they charge one).",
                max_digits=12,
                null=True,
                verbose_name="late cancellation fee",
            ),
        ),
        migrations.AddField(
            model_name="appointmentservice",
            name="no_show_fee",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Charged on the next invoice when the trainer marks a no-show. Empty: the gym's default booking rules apply (their fee, if they charge one).",
                max_digits=12,
                null=True,
                verbose_name="no-show fee",
            ),
        ),
        migrations.AddField(
            model_name="appointmentservice",
            name="reminder_hours",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Empty: the gym's default booking rules apply.",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="reminder (hours before)",
            ),
        ),
        migrations.AlterField(
            model_name="appointmentservice",
            name="cancellation_cutoff_minutes",
            field=models.PositiveIntegerField(
                blank=True,
                default=1440,
                help_text="Empty: the gym's default booking rules apply.",
                null=True,
                verbose_name="free cancellation until (minutes before)",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, fill_empty_cutoffs),
        migrations.AddConstraint(
            model_name="appointmentservice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("late_cancel_fee__isnull", True),
                        ("late_cancel_fee__gte", 0),
                        _connector="OR",
                    ),
                    models.Q(
                        ("no_show_fee__isnull", True), ("no_show_fee__gte", 0), _connector="OR"
                    ),
                ),
                name="appointment_service_fees_not_negative",
            ),
        ),
    ]
