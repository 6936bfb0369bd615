import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0002_reference_data'),
    ]

    operations = [
        migrations.AddField(
            model_name='store',
            name='authorization_error',
            field=models.TextField(blank=True, editable=False, help_text='Why Amazon stopped accepting the authorization, if it did.'),
        ),
        migrations.CreateModel(
            name='RateLimitBucket',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('selling_partner_id', models.CharField(max_length=64)),
                ('region', models.CharField(max_length=8)),
                ('operation', models.CharField(max_length=64)),
                ('rate', models.FloatField(help_text='Tokens per second (from x-amzn-RateLimit-Limit when Amazon sends it).')),
                ('burst', models.FloatField()),
                ('tokens', models.FloatField(help_text='Below zero: calls already promised a later slot.')),
                ('updated_at', models.FloatField(help_text='Unix time of the last refill.')),
            ],
            options={
                'ordering': ['selling_partner_id', 'region', 'operation'],
                'constraints': [models.UniqueConstraint(fields=('selling_partner_id', 'region', 'operation'), name='rate_limit_bucket_unique_key')],
            },
        ),
        migrations.CreateModel(
            name='OAuthState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce', models.CharField(max_length=64, unique=True)),
                ('flow', models.CharField(choices=[('self', 'Merchant managing its own account'), ('merchant_link', 'Link sent to merchant')], max_length=20)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField()),
                ('consumed_at', models.DateTimeField(blank=True, null=True)),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='oauth_states', to='connections.store')),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
    ]
