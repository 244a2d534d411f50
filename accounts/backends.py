"""Login lockout in front of the real authentication backends."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check that refuses a locked-out account, for logins that come with a request.

    Calls without a request (Django's test client `login()`, a shell) have no form post or
    address to count, and axes would raise on them instead of letting the next backend decide.
    Calls without a username (the OpenID Connect callback) have no account to lock.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
