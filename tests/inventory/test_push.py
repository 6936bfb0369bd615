"""The inventory push against the sandbox: delta and full, latency, feed split,
processing-report errors, the zero-stock guard, resume after a crash, FBA."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fulfillment.inventory import feeds, sending
from fulfillment.inventory.models import InventoryFeed, InventoryPush, ListingState
from fulfillment.inventory.services import inventory_push_confirm, inventory_push_run
from fulfillment.jobs.models import SyncRun
from sandbox.models import SandboxFeed, SandboxListing


def sent_documents() -> list[dict]:
    return [
        json.loads(bytes(f.input_document.content).decode("utf-8"))
        for f in SandboxFeed.objects.select_related("input_document").order_by("created_time", "pk")
    ]


def sent_skus() -> list[str]:
    return [m["sku"] for doc in sent_documents() for m in doc["messages"]]


def amazon_quantity(sku: str) -> int:
    return SandboxListing.objects.get(sku=sku).quantity


@pytest.mark.usefixtures("feeds_only")
def test_it_pushes_every_sku_first_then_only_changes_and_nothing_when_run_twice(store, sku, stock):
    # given
    sku("MUG", available=5)
    sku("TEE", available=7)

    # when: the first run sends both
    first = inventory_push_run(store=store)

    # then
    assert first.ok, first.error
    assert first.counts["sent"] == 2 and first.counts["accepted"] == 2 and first.counts["feeds"] == 1
    assert (
        first.api_calls >= 5
    )  # createFeedDocument, upload, createFeed, getFeed, getFeedDocument (+ download)
    assert (amazon_quantity("MUG"), amazon_quantity("TEE")) == (5, 7)
    assert ListingState.objects.get(sku="MUG").quantity == 5

    # when: nothing changed
    second = inventory_push_run(store=store)

    # then: nothing new is sent
    assert second.ok and second.counts["sent"] == 0 and second.api_calls == 0
    assert SandboxFeed.objects.count() == 1

    # when: one quantity changes
    stock("TEE", 2)
    third = inventory_push_run(store=store)

    # then: only that SKU goes
    assert third.counts["sent"] == 1
    assert sent_documents()[-1]["messages"][0]["sku"] == "TEE"
    assert amazon_quantity("TEE") == 2

    # when: a full push
    full = inventory_push_run(store=store, full=True)

    # then: everything goes again
    assert full.counts["sent"] == 2
    assert SyncRun.objects.filter(store=store, kind=SyncRun.Kind.INVENTORY_PUSH).count() == 4


@pytest.mark.usefixtures("feeds_only")
def test_it_sends_the_exact_message_shape_with_the_latency_every_time(store, sku, stock):
    # given
    store.fulfillment_latency = 3
    store.fulfillment_channel_code = "DEFAULT"
    store.save()
    sku("MUG", available=5)
    inventory_push_run(store=store)

    # when: only the quantity changes
    stock("MUG", 4)
    inventory_push_run(store=store)

    # then: the latency goes with the quantity both times
    first, second = sent_documents()
    assert first["header"] == {"sellerId": "A1ACMESELLER", "version": "2.0", "issueLocale": "en_US"}
    assert second["messages"] == [
        {
            "messageId": 1,
            "sku": "MUG",
            "operationType": "PATCH",
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [
                        {
                            "fulfillment_channel_code": "DEFAULT",
                            "quantity": 4,
                            "lead_time_to_ship_max_days": 3,
                        }
                    ],
                }
            ],
        }
    ]
    assert SandboxListing.objects.get(sku="MUG").lead_time_to_ship_max_days == 3

    # when: the store changes its handling time only
    store.fulfillment_latency = 5
    store.save()
    run = inventory_push_run(store=store)

    # then: that is a change too
    assert run.counts["sent"] == 1
    assert SandboxListing.objects.get(sku="MUG").lead_time_to_ship_max_days == 5


@pytest.mark.usefixtures("feeds_only")
def test_it_splits_documents_at_the_message_limit(store, sku, monkeypatch):
    # given: the limit patched down from 25,000 to keep the test fast
    monkeypatch.setattr(feeds, "FEED_MAX_MESSAGES", 3)
    for n in range(7):
        sku(f"SKU-{n}", available=n + 1)

    # when
    run = inventory_push_run(store=store)

    # then
    assert run.ok and run.counts["feeds"] == 3 and run.counts["accepted"] == 7
    assert [len(doc["messages"]) for doc in sent_documents()] == [3, 3, 1]
    assert [m["messageId"] for m in sent_documents()[1]["messages"]] == [1, 2, 3]
    assert InventoryPush.objects.get().feeds == 3


def test_it_validates_and_splits_at_the_real_25000_limit():
    # given
    items = [(f"SKU-{n}", n % 7, 2, "DEFAULT") for n in range(50_001)]

    # when
    chunks = list(feeds.feed_chunks(items))

    # then
    assert feeds.FEED_MAX_MESSAGES == 25_000
    assert [len(c) for c in chunks] == [25_000, 25_000, 1]
    content = feeds.feed_document_bytes(seller_id="A1", items=chunks[0])  # validates 25,000 messages
    assert json.loads(content)["messages"][-1]["messageId"] == 25_000
    with pytest.raises(ValueError, match="at most 25000"):
        feeds.feed_document_build(seller_id="A1", items=items[:25_001])


def test_it_refuses_a_document_that_breaks_the_schema():
    # given: a message without its product type
    document = feeds.feed_document_build(seller_id="A1", items=[("MUG", 1, None, "DEFAULT")])
    del document["messages"][0]["productType"]

    # when / then
    with pytest.raises(feeds.FeedDocumentInvalid) as caught:
        feeds.feed_document_serialize(document)
    assert str(caught.value).startswith("messages/0: ")


@pytest.mark.usefixtures("feeds_only")
def test_it_uploads_nothing_when_the_document_is_invalid(store, sku, monkeypatch):
    # given: a bug that would produce an empty product type
    monkeypatch.setattr(feeds, "PRODUCT_TYPE", "")
    sku("MUG", available=5)

    # when
    run = inventory_push_run(store=store)

    # then
    assert not run.ok and "Invalid feed document" in run.error
    assert SandboxFeed.objects.count() == 0
    assert InventoryPush.objects.get().state == InventoryPush.State.FAILED
    assert "Invalid feed document" in ListingState.objects.get(sku="MUG").last_error


@pytest.mark.usefixtures("feeds_only")
def test_it_records_amazons_error_per_sku_and_retries_it_next_time(store, sku, seller):
    # given: GHOST is not listed on Amazon
    sku("MUG", available=5)
    sku("GHOST", available=2, listed=False)

    # when
    run = inventory_push_run(store=store)

    # then: MUG accepted, GHOST carries Amazon's message
    assert run.ok and run.counts["accepted"] == 1 and run.counts["rejected"] == 1
    ghost = ListingState.objects.get(sku="GHOST")
    assert ghost.quantity is None and "does not exist" in ghost.last_error
    assert ListingState.objects.get(sku="MUG").last_error == ""
    push = InventoryPush.objects.get()
    assert (push.state, push.accepted, push.rejected) == (InventoryPush.State.PARTLY_FAILED, 1, 1)
    assert push.get_state_display() == "Partly failed"
    assert [sku for sku, _ in push.rejected_skus] == ["GHOST"] and "does not exist" in push.rejected_skus[0][
        1
    ]
    assert "Amazon refused 1 of 2 SKU(s): GHOST" in push.error

    # when: the listing appears and the job runs again
    from sandbox.listings import sandbox_listing_upsert

    sandbox_listing_upsert(seller=seller, sku="GHOST")
    again = inventory_push_run(store=store)

    # then: only the refused SKU is sent again, and its error clears
    assert again.counts["sent"] == 1 and again.counts["accepted"] == 1
    ghost.refresh_from_db()
    assert (ghost.quantity, ghost.last_error) == (2, "")


@pytest.mark.usefixtures("feeds_only")
def test_it_holds_a_push_that_zeroes_too_many_skus_until_a_person_confirms(
    store, sku, stock, settings, admin_user
):
    # given: four SKUs on Amazon with stock
    for name in ("A", "B", "C", "D"):
        sku(name, available=5)
    inventory_push_run(store=store)

    # when: the warehouse suddenly reports three of them empty (75% > 50%)
    for name in ("A", "B", "C"):
        stock(name, 0)
    held = inventory_push_run(store=store)

    # then: nothing is sent, the push waits
    push = InventoryPush.objects.get(state=InventoryPush.State.AWAITING_CONFIRMATION)
    assert held.ok and held.counts["sent"] == 0 and held.counts["held_for_confirmation"] == 3
    assert push.zeroing == 3 and push.zeroing_share == 0.75
    assert push.guarded_skus == [["A", 5, 0], ["B", 5, 0], ["C", 5, 0]]
    assert amazon_quantity("A") == 5
    assert "waits for confirmation" in held.notes

    # when: a person confirms it and the queued task runs
    assert inventory_push_confirm(push=push, user=admin_user)
    sent = inventory_push_run(store=store)

    # then
    assert sent.counts["sent"] == 3 and sent.counts["accepted"] == 3
    push.refresh_from_db()
    assert (push.state, push.confirmed_by) == (InventoryPush.State.DONE, admin_user)
    assert amazon_quantity("A") == 0
    assert inventory_push_run(store=store).counts["sent"] == 0


@pytest.mark.usefixtures("feeds_only")
def test_it_sends_a_few_zeros_without_asking(store, sku, stock, settings):
    for name in ("A", "B", "C", "D"):
        sku(name, available=5)
    inventory_push_run(store=store)
    stock("A", 0)
    stock("B", 0)  # 50%: not more than the store's 50%

    run = inventory_push_run(store=store)

    assert (
        run.counts["sent"] == 2 and not InventoryPush.objects.filter(state="awaiting_confirmation").exists()
    )


@pytest.mark.usefixtures("feeds_only")
def test_it_resumes_a_submitted_feed_by_polling_it_not_by_sending_again(store, sku, settings):
    # given: Amazon is slow and the run gives up waiting (as a crash would leave it)
    settings.SANDBOX_FEED_PROCESSING_SECONDS = 3600
    settings.INVENTORY_FEED_MAX_WAIT_SECONDS = 0
    sku("MUG", available=5)
    first = inventory_push_run(store=store)
    assert first.ok and first.counts["pending_feeds"] == 1
    assert InventoryFeed.objects.get().state == InventoryFeed.State.SUBMITTED
    assert amazon_quantity("MUG") == 0

    # when: Amazon has finished by the next run
    settings.SANDBOX_FEED_PROCESSING_SECONDS = 0
    second = inventory_push_run(store=store)

    # then: the same feed was polled and read; no second feed
    assert second.ok and second.counts["accepted"] == 1 and second.counts["feeds"] == 0
    assert SandboxFeed.objects.count() == 1
    assert InventoryPush.objects.get().state == InventoryPush.State.DONE
    assert amazon_quantity("MUG") == 5


@pytest.mark.usefixtures("feeds_only")
def test_it_submits_the_planned_feeds_a_crash_left_behind(store, sku, monkeypatch):
    # given: a crash right after the first of two feeds was created
    monkeypatch.setattr(feeds, "FEED_MAX_MESSAGES", 1)
    sku("A", available=1)
    sku("B", available=2)
    real_submit = sending._feed_submit
    calls = []

    def crash_on_second(**kw):
        calls.append(kw["feed"].sequence)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_submit(**kw)

    monkeypatch.setattr(sending, "_feed_submit", crash_on_second)
    crashed = inventory_push_run(store=store)
    assert not crashed.ok and SandboxFeed.objects.count() == 1

    # when
    monkeypatch.setattr(sending, "_feed_submit", real_submit)
    resumed = inventory_push_run(store=store)

    # then: feed 1 polled, feed 2 created once, nothing doubled
    assert resumed.ok, resumed.error
    assert SandboxFeed.objects.count() == 2 and sorted(sent_skus()) == ["A", "B"]
    assert (amazon_quantity("A"), amazon_quantity("B")) == (1, 2)
    assert inventory_push_run(store=store).counts["sent"] == 0


def test_it_uses_patch_listings_item_for_a_handful(store, sku):
    # given
    sku("MUG", available=5)
    sku("GHOST", available=1, listed=False)

    # when
    run = inventory_push_run(store=store)

    # then
    assert run.ok and run.counts["sent"] == 2 and run.counts["accepted"] == 1 and run.counts["rejected"] == 1
    assert SandboxFeed.objects.count() == 0
    assert InventoryPush.objects.get().method == InventoryPush.Method.PATCH
    assert amazon_quantity("MUG") == 5
    assert "does not exist" in ListingState.objects.get(sku="GHOST").last_error
    assert inventory_push_run(store=store).counts["sent"] == 1  # only the refused one again


@pytest.mark.usefixtures("feeds_only")
def test_it_skips_amazon_fulfilled_skus_unless_remote_fulfillment_is_on(store, sku):
    # given
    sku("MUG", available=5)
    sku("FBA-MUG", available=5, channel="AMAZON_NA")

    # when
    run = inventory_push_run(store=store)

    # then: asked Amazon about both SKUs, sent only the merchant-fulfilled one
    assert run.counts["sent"] == 1 and run.counts["skipped_amazon_fulfilled"] == 1
    assert run.counts["channels_read"] == 2
    assert ListingState.objects.get(sku="FBA-MUG").is_amazon_fulfilled
    assert SandboxListing.objects.get(sku="FBA-MUG").fulfillment_channel_code == "AMAZON_NA"
    again = inventory_push_run(store=store)
    assert again.api_calls == 0 and again.counts["skipped_amazon_fulfilled"] == 1

    # when: the store uses Remote Fulfillment with FBA
    store.remote_fulfillment_with_fba = True
    store.save()
    remote = inventory_push_run(store=store)

    # then
    assert remote.counts["sent"] == 1 and sent_documents()[-1]["messages"][0]["sku"] == "FBA-MUG"


@pytest.mark.usefixtures("feeds_only")
def test_the_command_prints_a_line_per_store_and_fails_on_rejections(store, sku, capsys):
    sku("MUG", available=5)

    call_command("push_inventory", "--store", store.name)
    assert "Acme US: 1 SKUs sent in 1 feeds, 1 accepted" in capsys.readouterr().out

    sku("GHOST", available=1, listed=False)
    with pytest.raises(CommandError) as failed:
        call_command("push_inventory", "--full")
    assert failed.value.returncode == 1
    assert "1 rejected" in capsys.readouterr().out


def test_the_command_refuses_an_unknown_store(db):
    with pytest.raises(CommandError):
        call_command("push_inventory", "--store", "nope")
