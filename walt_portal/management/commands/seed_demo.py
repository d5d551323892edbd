import os
from typing import Any

from django.core.management.base import BaseCommand

from walt_portal.demo import demo_seed


class Command(BaseCommand):
    help = "Seed the demo organizations and users (idempotent) and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "walt-demo-2026")
        logins = demo_seed(password=password)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {password}):"))
        for email, role in logins:
            self.stdout.write(f"  {email:<24} {role}")
