import secrets
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from cadency.accounts.models import Role, User
from cadency.accounts.services import create_user


class Command(BaseCommand):
    help = "Migrate the database, collect static files, create a first admin if there is none."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date; static files collected.")
        if User.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        create_user(username="admin", email="admin@example.com", password=password, role=Role.ADMIN)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the first admin. Sign in at /login/ as 'admin' with password "
                f"'{password}' (change it at /admin/ after signing in)."
            )
        )
