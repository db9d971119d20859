"""API tokens move from DRF's authtoken table (the key in plain text) to django-rest-knox's
(a SHA-512 digest and an 15-character prefix).

Existing tokens keep working: knox checks a token by hashing what the client sends, and the
digest of an old 40-character key is computed here. The plain keys are then deleted from the
old table, which is left empty (the authtoken app is no longer installed; drop the table
``authtoken_token`` at leisure). Going back cannot restore plain keys: reversing leaves
everyone to make new tokens.
"""

from django.db import migrations


def hash_existing_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        old_tokens = cursor.fetchall()
    for key, user_id, created in old_tokens:
        digest = hash_token(key)
        AuthToken(
            digest=digest, token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id
        ).save()
        # auto_now_add set "created" to now: keep when the token was really made.
        AuthToken.objects.filter(digest=digest).update(created=created)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.CreateModel(
            name="APIToken",
            fields=[],
            options={"verbose_name": "API token", "ordering": ["-created"], "proxy": True},
            bases=("knox.authtoken",),
        ),
        migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop),
    ]
