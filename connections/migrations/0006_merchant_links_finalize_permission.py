"""Merchant links and the finalize permission.

Its last operation once created the hourly authorization records purge
schedule. The schedule registry (fulfillment/jobs/schedules.py) owns every django-q2
schedule now: `manage.py sync_schedules` (run by bin/release and bin/demo
after migrate) and its repair job create and repair them. This migration
already ran on existing databases, so that operation stays, with the
migration's dependencies, and does nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0005_merchant_store_merchant'),
        ('django_q', '__latest__'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='store',
            options={'ordering': ['name'], 'permissions': [('finalize_store_authorization', "Can finalize a merchant's authorization")]},
        ),
        migrations.CreateModel(
            name='MerchantLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('email', models.EmailField(max_length=254)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField()),
                ('used_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='merchant_links', to='connections.store')),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddField(
            model_name='oauthstate',
            name='merchant_link',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='oauth_states', to='connections.merchantlink'),
        ),
        migrations.AddIndex(
            model_name='oauthstate',
            index=models.Index(fields=['expires_at'], name='oauth_state_expires_idx'),
        ),
        migrations.AddIndex(
            model_name='merchantlink',
            index=models.Index(fields=['expires_at'], name='merchant_link_expires_idx'),
        ),
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
    ]
