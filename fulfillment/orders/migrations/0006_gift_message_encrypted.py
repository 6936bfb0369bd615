"""Gift messages are buyer personal data: encrypt them at rest like the recipient.

The column type stays text; existing plain text is encrypted in place, in
batches, reading and writing raw column values (the historical model would try
to decrypt plain text). A value that already decrypts is left alone, so the
migration can be run again after a crash part-way.
"""

from cryptography.fernet import InvalidToken
from django.db import migrations

import fulfillment.core.fields

BATCH = 1000
TABLES = ("fulfillment_order", "fulfillment_orderline")


def _is_token(value: str) -> bool:
    try:
        fulfillment.core.fields.fernet().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        return False
    return True


def _convert(schema_editor, convert) -> None:
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    for table in TABLES:
        last_id = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, gift_message FROM {qn(table)} "  # noqa: S608
                    f"WHERE id > %s AND gift_message <> '' ORDER BY id LIMIT {BATCH}",
                    [last_id],
                )
                rows = cursor.fetchall()
                for pk, value in rows:
                    new = convert(value)
                    if new is not None:
                        cursor.execute(
                            f"UPDATE {qn(table)} SET gift_message = %s WHERE id = %s",  # noqa: S608
                            [new, pk],
                        )
            if len(rows) < BATCH:
                break
            last_id = rows[-1][0]


def encrypt_plain_text(apps, schema_editor):
    _convert(schema_editor, lambda v: None if _is_token(v) else fulfillment.core.fields.encrypt_str(v))


def decrypt_to_plain_text(apps, schema_editor):
    _convert(schema_editor, lambda v: fulfillment.core.fields.decrypt_str(v) if _is_token(v) else None)


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0005_order_acknowledged_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="gift_message",
            field=fulfillment.core.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="gift_message",
            field=fulfillment.core.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_plain_text, decrypt_to_plain_text, elidable=True),
    ]
