"""Detach (and optionally drop) the access log's months older than the retention."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from access import partitions


class Command(BaseCommand):
    help = "Detach the access log's monthly partitions before a date (retention)."

    def add_arguments(self, parser):
        parser.add_argument("--before", help="YYYY-MM-DD: months ending by this month go")
        parser.add_argument("--keep-months", type=int, help="or: keep this many months")
        parser.add_argument("--drop", action="store_true", help="drop the detached tables")

    def handle(self, *args, before=None, keep_months=None, drop=False, **options):
        if (before is None) == (keep_months is None):
            raise CommandError("Give exactly one of --before and --keep-months.")
        if before is not None:
            try:
                cutoff = datetime.strptime(before, "%Y-%m-%d").date()
            except ValueError:
                raise CommandError("--before must be YYYY-MM-DD.") from None
        else:
            if keep_months < 1:
                raise CommandError("--keep-months must be at least 1.")
            cutoff = partitions.month_start(datetime.now(UTC).date(), -(keep_months - 1)).date()
        detached = partitions.accesslog_partitions_detach(before=cutoff, drop=drop)
        verb = "dropped" if drop else "detached"
        for name in detached:
            self.stdout.write(f"{verb} {name}")
        self.stdout.write(f"{len(detached)} partitions {verb}")
