"""Every way of connecting a store asks Amazon whether the seller sells in the
store's marketplace first (issue 15 part 4). Each path, each case the sellers
model allows, each run twice; and no job ever runs for a store left out."""

from __future__ import annotations

import io

import jsonschema
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from connections.amazon import AmazonClient
from connections.amazon_models import load
from connections.models import Marketplace, Store
from connections.participation import Participation, participation_verdict, seller_participation_check
from fulfillment.inventory.tasks import inventory_push_task
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.orders.tasks import order_pull_task, order_reconcile_task
from fulfillment.shipments.tasks import confirmations_sweep_task
from sandbox.amazon_models import definitions_closure
from sandbox.sellers import sandbox_seller_ensure
from tests.connections.test_authorization import _consent, _start_self_flow, emailed_link, open_link
from tests.factories import make_store

# case -> (sandbox seller's participations, words the person reads)
CASES = {
    "not selling there": (
        dict(marketplace_codes=("DE",)),
        "does not sell in United States (US, ATVPDKIKX0DER); it sells in DE",
    ),
    "not participating": (
        dict(marketplace_codes=("US",), not_participating_in=("US",)),
        "is not participating in United States (US, ATVPDKIKX0DER)",
    ),
    "listings suspended": (
        dict(marketplace_codes=("US",), listings_suspended_in=("US",)),
        "has its listings in United States (US, ATVPDKIKX0DER) suspended",
    ),
}


def case_seller(case: str, *, spid: str = "A7OUTSIDER", token: str = "Atzr|outsider-token"):
    participations, _words = CASES[case]
    return sandbox_seller_ensure(
        selling_partner_id=spid, name="Outsider", refresh_token=token, **participations
    )


@pytest.fixture
def new_store(db, warehouse, us_marketplace) -> Store:
    return make_store(
        name="Acme new",
        warehouse=warehouse,
        marketplace=us_marketplace,
        selling_partner_id="",
        authorization_status=Store.Authorization.NOT_CONNECTED,
        refresh_token="",
    )


def assert_no_job_runs_for(store: Store, admin_client: Client, django_capture_on_commit_callbacks) -> None:
    """Every path that starts a job for "connected" stores leaves this one alone."""
    store.refresh_from_db()
    assert not store.is_connected
    assert not Store.objects.connected().filter(pk=store.pk).exists()
    schedules_sync()
    assert not Schedule.objects.filter(name__contains=f":store:{store.pk}").exists()
    for task in (order_pull_task, order_reconcile_task, inventory_push_task, confirmations_sweep_task):
        assert "skipped" in task(store.pk), task
    for command in ("pull_orders", "reconcile_orders", "push_inventory", "confirm_shipments"):
        out = io.StringIO()
        with pytest.raises((CommandError, SystemExit)):
            call_command(command, store=store.name, stdout=out)
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(
            reverse("admin:connections_store_changelist"),
            {"action": "pull_orders_now", "_selected_action": [store.pk]},
        )
    assert queued == []
    assert not SyncRun.objects.filter(store=store).exists()


# --- The merchant's own consent (Authorize) ------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_the_consent_callback_leaves_a_store_outside_the_marketplace_not_connected(
    admin_client, new_store, sandbox_app, case, django_capture_on_commit_callbacks
):
    seller = case_seller(case)
    words = CASES[case][1]

    for _ in range(2):
        # when: the seller consents on Amazon's page and comes back
        response = admin_client.get(_consent(admin_client, _start_self_flow(admin_client, new_store), seller))

        # then: the return page says why, and the store stays not connected with the reason
        assert response.status_code == 400
        page = response.content.decode()
        assert words in page
        assert "was not connected" in page
        new_store.refresh_from_db()
        assert new_store.authorization_status == Store.Authorization.NOT_CONNECTED
        assert new_store.refresh_token == ""
        assert new_store.selling_partner_id == ""
        assert words in new_store.authorization_error
        assert new_store.last_connection_test_ok is False

    store_page = admin_client.get(reverse("admin:connections_store_change", args=[new_store.pk]))
    assert words in store_page.content.decode()
    assert_no_job_runs_for(new_store, admin_client, django_capture_on_commit_callbacks)


@pytest.mark.parametrize("case", list(CASES))
def test_a_connected_store_whose_seller_left_the_marketplace_is_disconnected_on_consent(
    admin_client, store, sandbox_app, case, django_capture_on_commit_callbacks
):
    # given: the connected "Acme US" store's seller re-consents, no longer active in the US
    Store.objects.filter(pk=store.pk).update(authorized_at=timezone.now())
    seller = case_seller(case, spid=store.selling_partner_id, token=store.refresh_token)

    for _ in range(2):
        response = admin_client.get(_consent(admin_client, _start_self_flow(admin_client, store), seller))

        assert response.status_code == 400
        store.refresh_from_db()
        assert store.authorization_status == Store.Authorization.NOT_CONNECTED
        assert store.refresh_token == ""
        # its orders are that seller's: the id stays, so no other seller takes the store over
        assert store.selling_partner_id == "A1ACMESELLER"
        assert CASES[case][1] in store.authorization_error
    assert_no_job_runs_for(store, admin_client, django_capture_on_commit_callbacks)


# --- The link emailed to the merchant, then Finalize ------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_the_merchant_link_consent_refuses_a_seller_outside_the_marketplace_and_stays_usable(
    admin_client, new_store, sandbox_app, case, django_capture_on_commit_callbacks
):
    # given
    admin_client.post(
        reverse("admin:connections_store_send_link", args=[new_store.pk]), {"email": "owner@acme.test"}
    )
    link = emailed_link(mail.outbox[0])
    outsider = case_seller(case)
    merchant = Client()

    for _ in range(2):
        # when: the merchant signs in with an account that does not sell in the US
        response = merchant.get(_consent(merchant, open_link(merchant, link), outsider))

        # then
        assert response.status_code == 400
        assert CASES[case][1] in response.content.decode()
        new_store.refresh_from_db()
        assert new_store.authorization_status == Store.Authorization.AWAITING_MERCHANT
        assert new_store.refresh_token == ""
        assert CASES[case][1] in new_store.authorization_error
    assert_no_job_runs_for(new_store, admin_client, django_capture_on_commit_callbacks)

    # and: the same link still works with the account that does sell there
    right = sandbox_seller_ensure(selling_partner_id="A1RIGHT", marketplace_codes=("US",))
    assert merchant.get(_consent(merchant, open_link(merchant, link), right)).status_code == 200
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.AUTHORIZED_BY_MERCHANT
    assert new_store.authorization_error == ""


@pytest.mark.parametrize("case", list(CASES))
def test_finalize_checks_the_marketplace_again_and_leaves_the_store_not_connected(
    admin_client, new_store, sandbox_app, case, django_capture_on_commit_callbacks
):
    # given: the merchant consented while selling in the US ...
    admin_client.post(
        reverse("admin:connections_store_send_link", args=[new_store.pk]), {"email": "owner@acme.test"}
    )
    seller = sandbox_seller_ensure(selling_partner_id="A1LATER", marketplace_codes=("US",))
    merchant = Client()
    assert (
        merchant.get(
            _consent(merchant, open_link(merchant, emailed_link(mail.outbox[0])), seller)
        ).status_code
        == 200
    )
    # ... and Amazon suspends it (or it stops selling there) before the warehouse finalizes
    participations, words = CASES[case]
    seller.marketplaces.set(Marketplace.objects.filter(code__in=participations["marketplace_codes"]))
    sandbox_seller_ensure(selling_partner_id="A1LATER", **participations)

    # when: Finalize, twice
    first = admin_client.post(reverse("admin:connections_store_finalize", args=[new_store.pk]), follow=True)
    second = admin_client.post(reverse("admin:connections_store_finalize", args=[new_store.pk]), follow=True)

    # then
    assert words in first.content.decode()
    assert "no merchant authorization waiting" in second.content.decode()
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.NOT_CONNECTED
    assert new_store.refresh_token == ""
    assert words in new_store.authorization_error
    assert words in second.content.decode()  # the store page shows the reason
    assert_no_job_runs_for(new_store, admin_client, django_capture_on_commit_callbacks)


# --- connect_store ----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_connect_store_refuses_a_seller_outside_the_marketplace_and_exits_non_zero(
    admin_client, warehouse, sandbox_app, case, django_capture_on_commit_callbacks
):
    case_seller(case)
    args = ["--name=Outsider US", "--marketplace=US", "--selling-partner-id=A7OUTSIDER"]

    for _ in range(2):
        with pytest.raises(CommandError) as refused:
            call_command("connect_store", *args, "--refresh-token=Atzr|outsider-token", "--warehouse=NJ1")
        assert CASES[case][1] in str(refused.value)
        assert "Nothing was changed" in str(refused.value)
        assert not Store.objects.filter(name="Outsider US").exists()


def test_connect_store_leaves_an_existing_store_as_it_was(store, sandbox_app):
    case_seller("not participating")
    before = Store.objects.values().get(pk=store.pk)

    with pytest.raises(CommandError, match="is not participating"):
        call_command(
            "connect_store",
            f"--name={store.name}",
            "--marketplace=US",
            "--selling-partner-id=A7OUTSIDER",
            "--refresh-token=Atzr|outsider-token",
        )

    assert Store.objects.values().get(pk=store.pk) == before


def test_connect_store_refuses_a_token_amazon_does_not_accept(sandbox_app, warehouse):
    with pytest.raises(CommandError, match="does not accept this authorization"):
        call_command(
            "connect_store",
            "--name=X",
            "--marketplace=US",
            "--selling-partner-id=A",
            "--refresh-token=Atzr|nope",
        )
    assert not Store.objects.filter(name="X").exists()


def test_connect_store_changes_nothing_when_amazon_cannot_be_asked(
    sandbox_seller, warehouse, sandbox_faults, no_sleep
):
    sandbox_faults(error_rate=1.0)

    with pytest.raises(CommandError, match="could not be asked"):
        call_command(
            "connect_store",
            "--name=Acme again",
            "--marketplace=US",
            "--selling-partner-id=A1ACMESELLER",
            "--refresh-token=Atzr|acme-refresh-token",
        )
    assert not Store.objects.filter(name="Acme again").exists()


def test_the_consent_changes_nothing_when_amazon_cannot_be_asked(
    admin_client, new_store, sandbox_seller, sandbox_faults, no_sleep
):
    callback = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    sandbox_faults(error_rate=1.0)

    response = admin_client.get(callback)

    assert response.status_code == 400
    assert b"could not be asked" in response.content
    assert b"Nothing was changed" in response.content
    new_store.refresh_from_db()
    assert (new_store.authorization_status, new_store.refresh_token, new_store.authorization_error) == (
        Store.Authorization.NOT_CONNECTED,
        "",
        "",
    )


# --- Marketplaces by the names people and Amazon use -------------------------------------


@pytest.mark.parametrize("name", ["UK", "uk", "GB", " gb ", "A1F83G8C2ARO7P"])
def test_connect_store_finds_the_united_kingdom_by_any_of_its_names(sandbox_app, warehouse, name):
    sandbox_seller_ensure(
        selling_partner_id="A1BRIT", marketplace_codes=("GB",), refresh_token="Atzr|brit-token"
    )

    for _ in range(2):
        call_command(
            "connect_store",
            "--name=Brit",
            f"--marketplace={name}",
            "--selling-partner-id=A1BRIT",
            "--refresh-token=Atzr|brit-token",
            stdout=io.StringIO(),
        )

    store = Store.objects.get(name="Brit")
    assert store.marketplace.code == "GB"
    assert store.marketplace.amazon_code == "UK"
    assert store.is_connected


def test_the_admin_finds_marketplaces_and_stores_by_amazons_code_and_id(admin_client, warehouse):
    gb = Marketplace.objects.get(code="GB")
    brit = make_store(name="Brit shop", marketplace=gb, warehouse=warehouse)
    make_store(name="Yank shop", warehouse=warehouse)

    for term in ("UK", "A1F83G8C2ARO7P", "gb"):
        marketplaces = admin_client.get(reverse("admin:connections_marketplace_changelist"), {"q": term})
        stores = admin_client.get(reverse("admin:connections_store_changelist"), {"q": term})
        # (plain substring search still applies: Germany's id A1PA6795UKMFR9 holds "UK")
        assert gb.pk in [m.pk for m in marketplaces.context["cl"].result_list], term
        assert [s.pk for s in stores.context["cl"].result_list] == [brit.pk], term


# --- The verdict itself, on payloads valid against Amazon's model ---------------------------

_SCHEMA = definitions_closure(load("sellers.json"), "GetMarketplaceParticipationsResponse")


def _valid(body: dict) -> dict:
    jsonschema.Draft4Validator(_SCHEMA).validate(body)
    return body


def _payload(**participation) -> list[dict]:
    body = {
        "payload": [
            {
                "marketplace": {
                    "id": "ATVPDKIKX0DER",
                    "name": "Amazon.com",
                    "countryCode": "US",
                    "defaultCurrencyCode": "USD",
                    "defaultLanguageCode": "en_US",
                    "domainName": "www.amazon.com",
                },
                "participation": participation,
                "storeName": "Acme",
            }
        ]
    }
    return _valid(body)["payload"]


@pytest.mark.parametrize(
    ("is_participating", "has_suspended_listings", "expected"),
    [
        (True, False, Participation.ACTIVE),
        (False, False, Participation.NOT_PARTICIPATING),
        (False, True, Participation.NOT_PARTICIPATING),
        (True, True, Participation.LISTINGS_SUSPENDED),
    ],
)
def test_every_participation_amazon_allows_has_a_verdict(
    us_marketplace, is_participating, has_suspended_listings, expected
):
    payload = _payload(isParticipating=is_participating, hasSuspendedListings=has_suspended_listings)

    verdict = participation_verdict(
        participations=payload, marketplace=us_marketplace, selling_partner_id="A1"
    )

    assert verdict.participation == expected
    assert verdict.ok is (expected == Participation.ACTIVE)


def test_the_sandboxs_participations_follow_amazons_model(sandbox_app, us_marketplace):
    seller = sandbox_seller_ensure(
        selling_partner_id="A1MODEL",
        marketplace_codes=("US", "CA"),
        refresh_token="Atzr|model",
        not_participating_in=("DE",),
        listings_suspended_in=("CA",),
    )

    answer = AmazonClient(
        Store(marketplace=us_marketplace, selling_partner_id="A1MODEL", refresh_token="Atzr|model")
    ).get_marketplace_participations()
    check = seller_participation_check(
        marketplace=us_marketplace, selling_partner_id=seller.selling_partner_id, refresh_token="Atzr|model"
    )
    ca = seller_participation_check(
        marketplace=Marketplace.objects.get(code="CA"),
        selling_partner_id="A1MODEL",
        refresh_token="Atzr|model",
    )
    de = seller_participation_check(
        marketplace=Marketplace.objects.get(code="DE"),
        selling_partner_id="A1MODEL",
        refresh_token="Atzr|model",
    )

    _valid({"payload": answer})
    assert [p["marketplace"]["countryCode"] for p in answer] == ["CA", "DE", "US"]
    assert (check.participation, ca.participation, de.participation) == (
        Participation.ACTIVE,
        Participation.LISTINGS_SUSPENDED,
        Participation.NOT_PARTICIPATING,
    )


def test_the_sandbox_takes_marketplaces_by_any_of_their_names(db):
    from sandbox.models import SandboxOrder, SandboxSeller

    call_command("sandbox_orders", seller="A1BRIT", count=1, seed=1, marketplace="uk", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Unknown marketplace"):
        call_command("sandbox_orders", seller="A1BRIT", count=1, marketplace="XX", stdout=io.StringIO())

    seller = SandboxSeller.objects.get(selling_partner_id="A1BRIT")
    assert [m.code for m in seller.marketplaces.all()] == ["GB"]
    assert SandboxOrder.objects.get(seller=seller).marketplace.code == "GB"
    sandbox_seller_ensure(selling_partner_id="A1BRIT", listings_suspended_in=("A1F83G8C2ARO7P",))
    assert [m.code for m in seller.listings_suspended_in.all()] == ["GB"]
