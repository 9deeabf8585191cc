from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **options):
        # SITE_URL is what the emails link to; scripts/run derives it from HOST and PORT,
        # so what is printed here and what the emails say agree with the server.
        site = settings.SITE_URL.rstrip("/")
        self.stdout.write("")
        self.stdout.write(f"Spotter is running on {site}")
        self.stdout.write(f"  member portal  {site}/portal/")
        self.stdout.write(f"  trainer portal {site}/trainer/")
        self.stdout.write(f"  back office    {site}/admin/")
        self.stdout.write(f"  API docs       {site}/api/v1/docs")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            self.stdout.write(f"  {role:<28} {email}")
        self.stdout.write("")
