from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import tokens


class Command(BaseCommand):
    help = "Create an API token for USER and print it (the last word of the output; it is not shown again)."

    def add_arguments(self, parser):
        parser.add_argument("user", help="username")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="days until it expires (default: never)")
        parser.add_argument("--scope", action="append", default=[], metavar="S",
                            help=f"allow only this (repeatable): {', '.join(tokens.SCOPES)}, "
                                 "instances:start:<process id>; none: everything the user may do")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["user"]})
        except User.DoesNotExist:
            raise CommandError(f"No user {options['user']!r}")
        if options["expires"] is not None and options["expires"] < 1:
            raise CommandError("--expires must be at least 1 day")
        try:
            token, secret = tokens.create_token(user, options["name"], options["scope"], options["expires"])
        except tokens.InvalidScope as exc:
            raise CommandError(str(exc))
        scopes = ", ".join(token.scopes) or "everything the user may do"
        expires = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "does not expire"
        self.stdout.write(f"Token for {user.get_username()} ({scopes}; {expires}): {secret}")
