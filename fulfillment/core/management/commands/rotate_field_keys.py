"""Re-encrypt every encrypted column with the first FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (keep the old one after
it), run this command, then remove the old key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from fulfillment.core.fields import EncryptedTextField, rotate_encrypted_value


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields with the newest key."

    def handle(self, *args, **options):
        qn = connection.ops.quote_name
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table, pk_col = qn(model._meta.db_table), qn(model._meta.pk.column)
            cols = [qn(f.column) for f in fields]
            count = 0
            # Raw column values: the tokens are rotated without ever being
            # held as plain text by this command.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk_col}, {', '.join(cols)} FROM {table}")  # noqa: S608
                for pk, *tokens in cursor.fetchall():
                    rotated = [rotate_encrypted_value(t) if t else t for t in tokens]
                    sets = ", ".join(f"{c} = %s" for c in cols)
                    cursor.execute(
                        f"UPDATE {table} SET {sets} WHERE {pk_col} = %s",  # noqa: S608
                        [*rotated, pk],
                    )
                    count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows."))
