"""A package whose tracking number is not its carrier's is held before Amazon sees it;
a person sends it anyway (recorded) or corrects it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.services.tracking_hold import SEND_TASK
from sandbox.models import SandboxPackage

from .conftest import ITEM_A, ITEM_B

State = ShipmentConfirmation.State
VALID_UPS = "1Z5R89390357567127"
TYPO_UPS = "1Z5R89390357567128"


@pytest.fixture(autouse=True)
def _tracking_check_on(settings):
    settings.TRACKING_NUMBER_CHECK = True


@pytest.fixture
def ops_email(store):
    store.warehouse.operations_email = "ops@example.com"
    store.warehouse.save(update_fields=["operations_email"])


def test_a_valid_number_is_sent(order, ship, sweep):
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1}, carrier="UPS", tracking=VALID_UPS)

    sweep()

    shipment.confirmation.refresh_from_db()
    assert shipment.confirmation.state == State.ACCEPTED
    assert SandboxPackage.objects.get().tracking_number == VALID_UPS


def test_a_mistyped_number_is_held_with_the_reason_and_nothing_reaches_amazon(order, ship, sweep, ops_email):
    # given
    shipment = ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS)

    # when: the sweep runs twice
    run, _ = sweep()
    again, _ = sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get(pk=shipment.confirmation.pk)
    assert confirmation.state == State.HELD
    assert "check digit is wrong" in confirmation.amazon_message
    assert TYPO_UPS in confirmation.amazon_message
    assert confirmation.attempts == 0  # not an attempt
    assert confirmation.attempt_history == []
    assert SandboxPackage.objects.count() == 0
    assert run.api_calls == 0 and again.api_calls == 0
    assert (run.counts["held"], run.counts["sent"]) == (1, 0)
    assert not run.ok and "1 held for their tracking number" in run.error
    assert again.counts["held"] == 0 and again.counts["sent"] == 0  # a held package is not due
    # operations hear of it once
    assert len(mail.outbox) == 1
    assert "Tracking number held" in mail.outbox[0].subject
    assert TYPO_UPS in mail.outbox[0].body


def test_send_anyway_asks_then_sends_the_number_as_it_is_and_records_who(
    admin_client, admin_user, order, ship, sweep, monkeypatch, django_capture_on_commit_callbacks
):
    # given: held
    shipment = ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS)
    sweep()
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.HELD
    change_url = reverse("admin:confirmations_shipmentconfirmation_change", args=[confirmation.pk])
    url = reverse("admin:confirmations_shipmentconfirmation_send_anyway", args=[confirmation.pk])

    # the package's page offers the button and shows the reason
    page = admin_client.get(change_url).content.decode()
    assert url in page and "check digit is wrong" in page

    # when: GET asks, and changes nothing
    asked = admin_client.get(url)
    assert asked.status_code == 200
    assert TYPO_UPS in asked.content.decode() and "Yes, send it anyway" in asked.content.decode()
    confirmation.refresh_from_db()
    assert confirmation.state == State.HELD

    # when: POST sends
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args: queued.append((func, args)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    # then
    assert response.status_code == 302 and response["Location"] == change_url
    confirmation.refresh_from_db()
    assert confirmation.state == State.PENDING
    assert confirmation.sent_anyway_by == admin_user.get_username()
    assert confirmation.sent_anyway_at is not None
    assert queued == [(SEND_TASK, (confirmation.pk,))]
    sweep()
    confirmation.refresh_from_db()
    assert confirmation.state == State.ACCEPTED
    assert SandboxPackage.objects.get().tracking_number == TYPO_UPS
    assert shipment.pk == confirmation.shipment_id


def test_send_anyway_from_the_list_asks_first_and_leaves_other_states_alone(
    admin_client, order, ship, sweep, monkeypatch
):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a: None)
    ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS)
    ship(order, {ITEM_B: 1}, carrier="UPS", tracking=VALID_UPS)
    sweep()
    held = ShipmentConfirmation.objects.get(state=State.HELD)
    accepted = ShipmentConfirmation.objects.get(state=State.ACCEPTED)
    changelist = reverse("admin:confirmations_shipmentconfirmation_changelist")
    selected = {"action": "send_anyway", "_selected_action": [held.pk, accepted.pk]}

    asked = admin_client.post(changelist, selected)
    assert asked.status_code == 200 and TYPO_UPS in asked.content.decode()
    assert VALID_UPS not in asked.content.decode()
    held.refresh_from_db()
    assert held.state == State.HELD

    response = admin_client.post(changelist, {**selected, "post": "yes"})

    assert response.status_code == 302
    held.refresh_from_db()
    accepted.refresh_from_db()
    assert held.state == State.PENDING and held.sent_anyway_at is not None
    assert accepted.state == State.ACCEPTED and accepted.sent_anyway_at is None


def test_a_user_without_change_permission_cannot_send_anyway(client, django_user_model, order, ship, sweep):
    ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS)
    sweep()
    confirmation = ShipmentConfirmation.objects.get()
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_shipmentconfirmation"))
    client.force_login(viewer)

    response = client.post(
        reverse("admin:confirmations_shipmentconfirmation_send_anyway", args=[confirmation.pk])
    )

    assert response.status_code == 403
    confirmation.refresh_from_db()
    assert confirmation.state == State.HELD


def test_a_corrected_package_is_checked_again_and_sent(order, ship, sweep, monkeypatch):
    from fulfillment.shipments.services.recording import shipment_correct
    from fulfillment.wms.services import ShipmentInput, ShipmentLineInput

    monkeypatch.setattr("django_q.tasks.async_task", lambda *a: None)
    shipment = ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS, package_id="PKG-FIX")
    sweep()
    assert ShipmentConfirmation.objects.get().state == State.HELD

    shipment_correct(
        warehouse=order.store.warehouse,
        data=ShipmentInput(
            order=str(order.pk),
            package_id="PKG-FIX",
            carrier="UPS",
            tracking_number=VALID_UPS,
            ship_date=shipment.ship_date,
            lines=[ShipmentLineInput(quantity=1, order_item_id=ITEM_A)],
        ),
        source="api",
    )
    sweep()

    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.ACCEPTED
    assert confirmation.sent_anyway_at is None
    assert SandboxPackage.objects.get().tracking_number == VALID_UPS


def test_other_carriers_and_a_switched_off_check_are_not_held(order, ship, sweep, settings):
    # "Other" with a carrier name: Amazon has no format for it, neither do we
    ship(order, {ITEM_A: 1}, carrier="Some Local Courier", tracking="LOCAL-0001")
    settings.TRACKING_NUMBER_CHECK = False
    ship(order, {ITEM_B: 1}, carrier="UPS", tracking=TYPO_UPS)

    sweep()

    assert set(ShipmentConfirmation.objects.values_list("state", flat=True)) == {State.ACCEPTED}


def test_the_shipment_page_shows_why_its_confirmation_is_held(admin_client, order, ship, sweep):
    shipment = ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS)
    sweep()

    page = admin_client.get(reverse("admin:confirmations_shipment_change", args=[shipment.pk]))

    assert "Held: tracking number" in page.content.decode()
    assert "check digit is wrong" in page.content.decode()


def test_the_orders_timeline_says_the_package_is_held_and_why(order, ship, sweep):
    from fulfillment.ops.selectors import order_timeline

    ship(order, {ITEM_A: 1}, carrier="UPS", tracking=TYPO_UPS, package_id="PKG-HELD")
    sweep()

    (held,) = [e for e in order_timeline(order=order) if e.kind == "held"]
    assert held.title == "Package PKG-HELD held: tracking number not its carrier's"
    assert "check digit is wrong" in held.detail
