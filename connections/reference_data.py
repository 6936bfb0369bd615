"""Amazon marketplaces and accepted carrier codes, as shipped reference data.

Loaded by a data migration and editable in the admin afterwards. Sources: the
SP-API marketplace-id table, and Amazon's carrier lists (the CarrierCode
enumeration of its order-fulfillment feed schema, and the Singapore and
Australia lists Seller Central publishes).
"""

_NA = ("NA", "us-east-1", "https://sellingpartnerapi-na.amazon.com")
_EU = ("EU", "eu-west-1", "https://sellingpartnerapi-eu.amazon.com")
_FE = ("FE", "us-west-2", "https://sellingpartnerapi-fe.amazon.com")

# code, country, marketplace id, region tuple, Seller Central host, currency, language
MARKETPLACES = [
    ("CA", "Canada", "A2EUQ1WTGCTBG2", _NA, "https://sellercentral.amazon.ca", "CAD", "en_CA"),
    ("US", "United States", "ATVPDKIKX0DER", _NA, "https://sellercentral.amazon.com", "USD", "en_US"),
    ("MX", "Mexico", "A1AM78C64UM0Y8", _NA, "https://sellercentral.amazon.com.mx", "MXN", "es_MX"),
    ("BR", "Brazil", "A2Q3Y263D00KWC", _NA, "https://sellercentral.amazon.com.br", "BRL", "pt_BR"),
    ("IE", "Ireland", "A28R8C7NBKEWEA", _EU, "https://sellercentral.amazon.ie", "EUR", "en_IE"),
    ("ES", "Spain", "A1RKKUPIHCS9HS", _EU, "https://sellercentral-europe.amazon.com", "EUR", "es_ES"),
    (
        "GB",
        "United Kingdom",
        "A1F83G8C2ARO7P",
        _EU,
        "https://sellercentral-europe.amazon.com",
        "GBP",
        "en_GB",
    ),
    ("FR", "France", "A13V1IB3VIYZZH", _EU, "https://sellercentral-europe.amazon.com", "EUR", "fr_FR"),
    ("BE", "Belgium", "AMEN7PMS3EDWL", _EU, "https://sellercentral.amazon.com.be", "EUR", "fr_BE"),
    ("NL", "Netherlands", "A1805IZSGTT6HS", _EU, "https://sellercentral.amazon.nl", "EUR", "nl_NL"),
    ("DE", "Germany", "A1PA6795UKMFR9", _EU, "https://sellercentral-europe.amazon.com", "EUR", "de_DE"),
    ("IT", "Italy", "APJ6JRA9NG5V4", _EU, "https://sellercentral-europe.amazon.com", "EUR", "it_IT"),
    ("SE", "Sweden", "A2NODRKZP88ZB9", _EU, "https://sellercentral.amazon.se", "SEK", "sv_SE"),
    ("ZA", "South Africa", "AE08WJ6YKNBMC", _EU, "https://sellercentral.amazon.co.za", "ZAR", "en_ZA"),
    ("PL", "Poland", "A1C3SOZRARQ6R3", _EU, "https://sellercentral.amazon.pl", "PLN", "pl_PL"),
    ("EG", "Egypt", "ARBP9OOSHTCHU", _EU, "https://sellercentral.amazon.eg", "EGP", "ar_EG"),
    ("TR", "Turkey", "A33AVAJ2PDY3EV", _EU, "https://sellercentral.amazon.com.tr", "TRY", "tr_TR"),
    ("SA", "Saudi Arabia", "A17E79C6D8DWNP", _EU, "https://sellercentral.amazon.sa", "SAR", "ar_SA"),
    ("AE", "United Arab Emirates", "A2VIGQ35RCS4UG", _EU, "https://sellercentral.amazon.ae", "AED", "en_AE"),
    ("IN", "India", "A21TJRUUN4KGV", _EU, "https://sellercentral.amazon.in", "INR", "en_IN"),
    ("SG", "Singapore", "A19VAU5U5O7RUS", _FE, "https://sellercentral.amazon.sg", "SGD", "en_SG"),
    ("AU", "Australia", "A39IBJ37TRP1C6", _FE, "https://sellercentral.amazon.com.au", "AUD", "en_AU"),
    ("JP", "Japan", "A1VC38T7YXB528", _FE, "https://sellercentral.amazon.co.jp", "JPY", "ja_JP"),
]

# Where Amazon's marketplace table spells a country otherwise than ISO 3166
# (our `code`); people type either, and both must find the marketplace.
AMAZON_COUNTRY_CODES = {"GB": "UK"}
ISO_FOR_AMAZON_CODE = {amazon: iso for iso, amazon in AMAZON_COUNTRY_CODES.items()}

# Amazon's long-standing CarrierCode list (order-fulfillment feed schema).
STANDARD_CARRIERS = [
    "USPS", "UPS", "UPSMI", "FedEx", "DHL", "Fastway", "GLS", "GO!",
    "Hermes Logistik Gruppe", "Royal Mail", "Parcelforce", "City Link", "TNT",
    "Target", "SagawaExpress", "NipponExpress", "YamatoTransport",
    "DHL Global Mail", "UPS Mail Innovations", "FedEx SmartPost", "OSM",
    "OnTrac", "Streamlite", "Newgistics", "Canada Post", "Blue Package",
    "Chronopost", "Deutsche Post", "DPD", "La Poste", "Parcelnet",
    "Poste Italiane", "SDA", "Smartmail", "FEDEX_JP", "JP_EXPRESS", "NITTSU",
    "SAGAWA", "YAMATO", "BlueDart", "AFL/Fedex", "Aramex", "India Post",
    "Professional", "DTDC", "Overnite Express", "First Flight", "Delhivery",
    "Lasership", "Yodel", "Other",
]  # fmt: skip

# Marketplaces that publish a list of their own.
MARKETPLACE_CARRIERS = {
    "SG": [
        "Blue Package", "USPS", "UPS", "UPSMI", "FedEx", "DHL", "DHL Global Mail",
        "Fastway", "UPS Mail Innovations", "Lasership", "Royal Mail",
        "FedEx SmartPost", "OSM", "OnTrac", "Streamlite", "Newgistics",
        "Canada Post", "City Link", "GLS", "GO!", "Hermes Logistik Gruppe",
        "Parcelforce", "TNT", "Target", "SagawaExpress", "NipponExpress",
        "YamatoTransport", "Ninjavan", "Qxpress", "Singapore Post", "4PX",
        "Yanwen", "Aramex", "China Post", "DHL eCommerce", "SF Express", "Other",
    ],
    "AU": [
        "Australia Post-Consignment", "Australia Post-ArticleId", "4PX", "Aramex",
        "Couriers Please", "China Post", "DHL", "EUB", "Fastway", "FedEx",
        "India Post", "Sendle", "SF Express", "TNT", "UPS", "USPS", "YANWEN",
        "Yun Express", "Other",
    ],
}  # fmt: skip


def carriers_for(code: str) -> list[str]:
    return MARKETPLACE_CARRIERS.get(code, STANDARD_CARRIERS)


def reference_data_load(marketplace_model, carrier_model) -> None:
    """Create or refresh the marketplaces and their accepted carriers.

    Takes the model classes so the data migration can pass its historical
    models; the test suite calls it after a transactional test flushed them.
    """
    for code, country, mp_id, (region, aws_region, endpoint), sc_url, currency, lang in MARKETPLACES:
        marketplace, _ = marketplace_model.objects.update_or_create(
            code=code,
            defaults={
                "country": country,
                "marketplace_id": mp_id,
                "region": region,
                "aws_region": aws_region,
                "sp_api_endpoint": endpoint,
                "seller_central_url": sc_url,
                "currency": currency,
                "default_language": lang,
            },
        )
        carrier_model.objects.bulk_create(
            [carrier_model(marketplace=marketplace, code=c) for c in carriers_for(code)],
            ignore_conflicts=True,
        )
