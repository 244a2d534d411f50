"""Existing DRF authtoken keys become hashed API tokens, and the plain keys are deleted.

Clients keep sending the same `Authorization: Token <key>`: the key is looked up by its
SHA-256 like every new token. The old table is read with plain SQL because the authtoken
app is no longer installed (it stays in the database, empty).
"""

import datetime
import hashlib

from django.db import migrations

OLD_TABLE = "authtoken_token"


def hash_old_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id, created FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create([
        ApiToken(user_id=user_id, name="migrated", prefix=key[:8], digest=hashlib.sha256(key.encode()).hexdigest(),
                 created_at=_aware(created))
        for key, user_id, created in rows
    ])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {OLD_TABLE}")


def _aware(value) -> datetime.datetime:
    # SQLite hands back text or a naive datetime (stored in UTC); PostgreSQL an aware one.
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_tokens_and_audit")]

    operations = [migrations.RunPython(hash_old_tokens, migrations.RunPython.noop)]
