import json
import os

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from accounts.tokens import create_token
from engine.deploy import deploy
from processes.roles import DEMO_LANE_ROLES, ensure_roles

DEMO_USERS = {
    "sales": ["Sales"],
    "manager": ["Manager"],
    "finance": ["Finance"],
    "warehouse": ["Warehouse"],
    "analyst": ["Analyst"],
    "operator": ["Operator"],
    "auditor": ["Auditor"],
    "integration": ["Integration"],
}
DEMO_TOKEN_NAME = "demo"


class Command(BaseCommand):
    help = "Create demo roles, demo users (password 'demo'), the analyst's API token and deploy the demo process."

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("Demo users are only created with LANEBRIDGE_DEMO=1")
        ensure_roles()
        for name in DEMO_LANE_ROLES:
            Group.objects.get_or_create(name=name)
        for username, groups in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            if created:
                user.set_password("demo")
                user.save()
            user.groups.add(*Group.objects.filter(name__in=groups))
        # The auditor reads the audit log in the admin, which needs staff status; what it shows stays the role's.
        User.objects.filter(username="auditor").update(is_staff=True)
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"})
        if created:
            admin.set_password("demo")
            admin.save()
        # A secret is shown only when made: each run replaces the analyst's demo token with a new one.
        analyst = User.objects.get(username="analyst")
        analyst.api_tokens.filter(name=DEMO_TOKEN_NAME).delete()
        _token, secret = create_token(analyst, DEMO_TOKEN_NAME)
        # The token another system (a shop, a script) sends messages and signals with, and nothing else.
        integration = User.objects.get(username="integration")
        integration.api_tokens.filter(name=DEMO_TOKEN_NAME).delete()
        _token, integration_secret = create_token(integration, DEMO_TOKEN_NAME,
                                                  scopes=["messages:send", "signals:send"])
        path = settings.BASE_DIR / "processes" / "bpmn" / "quote_to_cash.bpmn"
        mappings = settings.BASE_DIR / "integrations" / "mappings" / "quote_to_cash.json"
        if path.exists():
            deployment = deploy(path.read_bytes(), path.name, mappings=json.loads(mappings.read_text()))
            for definition in deployment.definitions:
                self.stdout.write(f"Demo process: {definition.process_id} v{definition.version}")
        self.stdout.write(f"Demo users: {', '.join(DEMO_USERS)}, admin (password: demo)")
        self.stdout.write(f"API token for analyst: {secret}")
        self.stdout.write(f"API token for integration (messages and signals): {integration_secret}")
        os.environ.setdefault("LANEBRIDGE_ANALYST_TOKEN", secret)
