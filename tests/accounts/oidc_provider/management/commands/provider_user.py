from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or update a provider user with exactly the given groups."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("password")
        parser.add_argument("--groups", default="")
        parser.add_argument("--email", default="")

    def handle(self, username, password, groups, email, **options):
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.email = email
        user.first_name = username.title()
        user.save()
        names = [name for name in groups.split(",") if name]
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
