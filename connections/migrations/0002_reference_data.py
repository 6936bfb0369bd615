from django.db import migrations


def load(apps, schema_editor):
    from connections.reference_data import MARKETPLACES, carriers_for

    Marketplace = apps.get_model("connections", "Marketplace")
    AcceptedCarrier = apps.get_model("connections", "AcceptedCarrier")
    for code, country, mp_id, (region, aws_region, endpoint), sc_url, currency, lang in MARKETPLACES:
        marketplace, _ = Marketplace.objects.update_or_create(
            code=code,
            defaults=dict(
                country=country,
                marketplace_id=mp_id,
                region=region,
                aws_region=aws_region,
                sp_api_endpoint=endpoint,
                seller_central_url=sc_url,
                currency=currency,
                default_language=lang,
            ),
        )
        AcceptedCarrier.objects.bulk_create(
            [AcceptedCarrier(marketplace=marketplace, code=c) for c in carriers_for(code)],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("connections", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
