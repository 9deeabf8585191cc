from django.core.management.base import BaseCommand

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **options):
        self.stdout.write("")
        self.stdout.write("Spotter is running on http://127.0.0.1:8000")
        self.stdout.write("  member portal  http://127.0.0.1:8000/portal/")
        self.stdout.write("  trainer portal http://127.0.0.1:8000/trainer/")
        self.stdout.write("  back office    http://127.0.0.1:8000/admin/")
        self.stdout.write("  API docs       http://127.0.0.1:8000/api/v1/docs")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            self.stdout.write(f"  {role:<28} {email}")
        self.stdout.write("")
