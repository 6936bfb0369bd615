"""MerchantMembership moves here from ops (who works for which merchant lives with the merchants), keeping its table."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ops', '0004_alert_unreadable_order'),
        ('connections', '0007_rate_limit_bucket_counts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The table stays where it is: only Django's idea of which app
        # owns the model changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MerchantMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='connections.merchant')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='merchant_memberships', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'ops_merchantmembership',
                        'ordering': ['merchant', 'user'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'merchant'), name='merchant_membership_unique')],
                    },
                ),
            ],
        ),
    ]
