"""Real sign-on servers for the SSO tests: an OpenLDAP slapd and an OpenID Connect provider."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_DN = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "directory-admin"
GROUPS = ["sales", "managers", "finance", "operators"]
# groupOfNames needs a member: an emptied group keeps this one, which is nobody.
NOBODY = f"cn=nobody,{BASE_DN}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    """Wait until the server answers on the port (at most 30 s), failing early if it exits."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer on port {port}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Directory:
    """The test directory: people under ou=people, groupOfNames under ou=groups."""

    def __init__(self, uri: str):
        self.uri = uri

    def connection(self):
        import ldap

        conn = ldap.initialize(self.uri)
        conn.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return conn

    @staticmethod
    def group_dn(name: str) -> str:
        return f"cn={name},ou=groups,{BASE_DN}"

    @staticmethod
    def person_dn(uid: str) -> str:
        return f"uid={uid},ou=people,{BASE_DN}"

    def reset(self) -> None:
        """Empty the directory but for its two branches and empty groups."""
        import ldap

        conn = self.connection()
        for branch in ("ou=people", "ou=groups"):
            dn = f"{branch},{BASE_DN}"
            try:
                children = conn.search_s(dn, ldap.SCOPE_ONELEVEL, attrlist=["1.1"])
            except ldap.NO_SUCH_OBJECT:
                children = []
                conn.add_s(dn, [("objectClass", [b"organizationalUnit"]), ("ou", [branch[3:].encode()])])
            for child, _ in children:
                conn.delete_s(child)
        for name in GROUPS:
            conn.add_s(self.group_dn(name), [
                ("objectClass", [b"groupOfNames"]), ("cn", [name.encode()]), ("member", [NOBODY.encode()]),
            ])
        conn.unbind_s()

    def add_person(self, uid: str, password: str, groups: list[str] = (), mail: str = "") -> None:
        conn = self.connection()
        conn.add_s(self.person_dn(uid), [
            ("objectClass", [b"inetOrgPerson"]),
            ("uid", [uid.encode()]),
            ("cn", [uid.title().encode()]),
            ("givenName", [uid.title().encode()]),
            ("sn", [b"Tester"]),
            ("mail", [(mail or f"{uid}@example.org").encode()]),
            ("userPassword", [password.encode()]),
        ])
        conn.unbind_s()
        self.set_groups(uid, groups)

    def set_groups(self, uid: str, groups: list[str]) -> None:
        """Make the person a member of exactly these groups."""
        import ldap

        conn = self.connection()
        person = self.person_dn(uid).encode()
        for name in GROUPS:
            _, attrs = conn.search_s(self.group_dn(name), ldap.SCOPE_BASE)[0]
            members = [m for m in attrs["member"] if m.lower() != person.lower()]
            if name in groups:
                members.append(person)
            conn.modify_s(self.group_dn(name), [(ldap.MOD_REPLACE, "member", members)])
        conn.unbind_s()


@pytest.fixture(scope="session")
def slapd(tmp_path_factory) -> Directory:
    """An OpenLDAP slapd of our own on a free port, with an mdb database in a temporary folder."""
    binary = shutil.which("slapd") or "/usr/sbin/slapd"
    if not os.path.exists(binary):
        pytest.fail("slapd is not installed (Debian package slapd; .ci/run installs it)")
    home = tmp_path_factory.mktemp("slapd")
    (home / "db").mkdir()
    schema = "/etc/ldap/schema"
    (home / "slapd.conf").write_text(
        "\n".join([
            *(f"include {schema}/{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")),
            f"pidfile {home}/slapd.pid",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "database mdb",
            "maxsize 104857600",
            f'suffix "{BASE_DN}"',
            f'rootdn "{ADMIN_DN}"',
            f"rootpw {ADMIN_PASSWORD}",
            f"directory {home}/db",
            # People may read the directory once bound; passwords are only compared, never read.
            "access to attrs=userPassword by anonymous auth by * none",
            "access to * by users read by * none",
            "",
        ])
    )
    port = free_port()
    # -d 0 keeps slapd in the foreground, so it is our child and stops with us.
    process = subprocess.Popen(
        [binary, "-f", str(home / "slapd.conf"), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "slapd")
        directory = Directory(f"ldap://127.0.0.1:{port}")
        conn = directory.connection()
        conn.add_s(BASE_DN, [
            ("objectClass", [b"dcObject", b"organization"]), ("dc", [b"example"]), ("o", [b"Example"]),
        ])
        conn.unbind_s()
        yield directory
    finally:
        stop(process)


@pytest.fixture
def directory(slapd) -> Directory:
    """The test directory, emptied for this test."""
    slapd.reset()
    return slapd


class Provider:
    """The OpenID Connect provider process and the commands that change its users."""

    client_id = "lanebridge"
    client_secret = "provider-client-secret"

    def __init__(self, url: str, env: dict):
        self.url = url
        self.env = env

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def set_user(self, username: str, password: str, groups: list[str] = ()) -> None:
        """Create or update a provider user with exactly these groups."""
        self.manage("provider_user", username, password, "--groups", ",".join(groups),
                    "--email", f"{username}@example.org")

    def lanebridge_settings(self) -> dict:
        """The OIDC_* settings Lanebridge needs to use this provider."""
        return {
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/o/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/o/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.url}/o/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/o/.well-known/jwks.json",
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.url}/o/logout/",
        }


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory) -> Provider:
    """A second Django (django-oauth-toolkit's OIDC provider) on a free port, trusting Lanebridge's live server."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    home = tmp_path_factory.mktemp("oidc-provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (home / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.accounts.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(home / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY_FILE": str(home / "key.pem"),
        "PYTHONPATH": str(ROOT),
    }
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", env)
    provider.manage("migrate", "-v0")
    provider.manage("provider_client", provider.client_id, provider.client_secret, f"{live_server.url}/oidc/callback/",
                    "--post-logout-redirect-uri", f"{live_server.url}/accounts/login/")
    with (home / "server.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )
        try:
            wait_for_port(port, process, "the OIDC provider")
            yield provider
        finally:
            stop(process)


OIDC_GROUP_ROLES = "lanebridge-sales:Sales; lanebridge-finance:Finance; lanebridge-ops:Operator"


@pytest.fixture
def oidc_on(settings, oidc_provider: Provider) -> Provider:
    """Lanebridge configured for the provider as an operator would set it up."""
    for name, value in oidc_provider.lanebridge_settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "accounts.sso.OIDCBackend"]
    settings.LANEBRIDGE_SSO_GROUP_ROLES = OIDC_GROUP_ROLES
    return oidc_provider
