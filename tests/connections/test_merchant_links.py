"""The emailed merchant link (issue 16 item 4): random, stored as a hash, single-use,
expiring, revoked by the next one; a bare GET writes nothing; Finalize is the
warehouse admin's; spent records are purged on a schedule. The attacks
themselves are in tests/reliability/test_attacks.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from connections.merchant_links import store_send_authorization_link
from connections.models import MerchantLink, OAuthState, Store
from connections.purge import authorization_records_purge
from fulfillment.ops.roles import MERCHANT_USER, WAREHOUSE_ADMIN, WAREHOUSE_STAFF
from tests.connections.test_authorization import _consent, emailed_link, open_link
from tests.factories import make_store, make_user


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


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_each_link_is_random_and_only_its_hash_is_stored(new_store):
    first = store_send_authorization_link(store=new_store, email="a@acme.test")
    second = store_send_authorization_link(store=new_store, email="a@acme.test")

    assert _token(first) != _token(second)
    assert len(_token(first)) >= 43  # 32 random bytes
    assert [emailed_link(m) for m in mail.outbox] == [first, second]
    stored = list(MerchantLink.objects.order_by("created_at").values_list("token_hash", flat=True))
    assert stored == [hashlib.sha256(_token(link).encode()).hexdigest() for link in (first, second)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM connections_merchantlink")
        dump = repr(cursor.fetchall())
    assert _token(first) not in dump and _token(second) not in dump


def test_a_link_expires(client, new_store, settings):
    link = store_send_authorization_link(store=new_store, email="a@acme.test")
    MerchantLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = client.get(link)
    started = client.post(urlsplit(link).path, {"token": _token(link)})

    assert (page.status_code, started.status_code) == (410, 410)
    assert b"expired" in page.content
    assert OAuthState.objects.count() == 0


def test_an_email_that_cannot_be_sent_leaves_the_earlier_link_valid(client, new_store, monkeypatch):
    earlier = store_send_authorization_link(store=new_store, email="a@acme.test")

    def fail(**kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("connections.merchant_links.send_mail", fail)
    with pytest.raises(ConnectionRefusedError):
        store_send_authorization_link(store=new_store, email="b@acme.test")

    assert MerchantLink.objects.count() == 1
    assert client.get(earlier).status_code == 200


def test_opening_a_link_writes_nothing(new_store):
    """Mail scanners and link previews open links: a GET only shows the page."""
    link = store_send_authorization_link(store=new_store, email="a@acme.test")
    browser = Client()

    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            page = browser.get(link)
        assert page.status_code == 200
        writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
        assert writes == []
    assert Session.objects.count() == 0
    assert OAuthState.objects.count() == 0
    assert page["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in page["Cache-Control"]


def test_pressing_continue_twice_leaves_one_state_per_link(new_store):
    link = store_send_authorization_link(store=new_store, email="a@acme.test")
    browser = Client()

    first = open_link(browser, link)
    second = open_link(browser, link)

    assert first != second
    assert OAuthState.objects.filter(consumed_at=None).count() == 1
    # the merchant's session lasts only as long as a consent may take
    assert browser.session.get_expiry_age() <= 15 * 60


def test_a_link_in_the_earlier_format_is_gone(client, new_store):
    response = client.get("/connections/authorize/eyJzdG9yZSI6MX0:1abc:signature/")

    assert response.status_code == 410
    assert b"earlier email" in response.content


def test_only_the_warehouse_admin_group_holds_the_finalize_permission(db):
    permission = Permission.objects.get(codename="finalize_store_authorization")
    holders = set(Group.objects.filter(permissions=permission).values_list("name", flat=True))

    assert holders == {WAREHOUSE_ADMIN}
    assert {WAREHOUSE_STAFF, MERCHANT_USER} <= set(Group.objects.values_list("name", flat=True))


def test_a_warehouse_admin_finalizes(new_store, sandbox_seller):
    # given: a merchant consented through its link
    link = store_send_authorization_link(store=new_store, email="a@acme.test")
    merchant = Client()
    assert merchant.get(_consent(merchant, open_link(merchant, link), sandbox_seller)).status_code == 200
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=WAREHOUSE_ADMIN))
    warehouse_admin = Client()
    warehouse_admin.force_login(user)

    # when
    page = warehouse_admin.get(reverse("admin:connections_store_change", args=[new_store.pk]))
    response = warehouse_admin.post(reverse("admin:connections_store_finalize", args=[new_store.pk]))

    # then
    assert "Finalize</button>" in page.content.decode()
    assert response.status_code == 302
    new_store.refresh_from_db()
    assert new_store.is_connected


# --- The purge ---------------------------------------------------------------------------


def test_the_purge_removes_expired_states_links_and_sessions_only(new_store):
    # given: one of each expired, one of each current
    now = timezone.now()
    store_send_authorization_link(store=new_store, email="a@acme.test")
    store_send_authorization_link(store=new_store, email="a@acme.test")
    old_link, current_link = MerchantLink.objects.order_by("created_at")
    MerchantLink.objects.filter(pk=old_link.pk).update(expires_at=now - timedelta(days=1))
    for link, expires in ((old_link, now - timedelta(minutes=1)), (current_link, now + timedelta(minutes=5))):
        OAuthState.objects.create(
            nonce=f"n{link.pk}", store=new_store, flow="merchant_link", merchant_link=link, expires_at=expires
        )
    OAuthState.objects.create(
        nonce="self-old", store=new_store, flow="self", expires_at=now - timedelta(hours=1)
    )
    Session.objects.create(session_key="old", session_data="x", expire_date=now - timedelta(seconds=1))
    Session.objects.create(session_key="new", session_data="x", expire_date=now + timedelta(days=1))

    # when: twice, as a task delivered twice would
    first = authorization_records_purge()
    second = authorization_records_purge()

    # then
    assert first == {"oauth_states": 2, "merchant_links": 1}
    assert second == {"oauth_states": 0, "merchant_links": 0}
    assert list(MerchantLink.objects.all()) == [current_link]
    assert list(OAuthState.objects.values_list("nonce", flat=True)) == [f"n{current_link.pk}"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def test_the_purge_runs_hourly_on_a_schedule_and_writes_a_run(db):
    from django.utils.module_loading import import_string

    from fulfillment.jobs.models import SyncRun
    from fulfillment.jobs.schedules import AUTHORIZATION_PURGE_SCHEDULE, schedules_sync

    schedules_sync()
    schedules_sync()  # idempotent
    (schedule,) = Schedule.objects.filter(name=AUTHORIZATION_PURGE_SCHEDULE)

    assert schedule.func == "fulfillment.jobs.tasks.authorization_records_purge_task"
    assert (schedule.schedule_type, schedule.repeats) == (Schedule.HOURLY, -1)
    assert not schedule.args
    result = import_string(schedule.func)()
    run = SyncRun.objects.get(kind=SyncRun.Kind.AUTHORIZATION_PURGE)
    assert result == {"sync_run": run.pk, "ok": True, "oauth_states": 0, "merchant_links": 0}
    assert run.store is None and run.ok


def test_a_link_is_spent_once_even_by_two_callbacks_at_once(new_store):
    from connections.errors import AuthorizationRefused
    from connections.merchant_links import merchant_link_use

    store_send_authorization_link(store=new_store, email="a@acme.test")
    link = MerchantLink.objects.get()
    now = timezone.now()

    merchant_link_use(link=MerchantLink.objects.get(pk=link.pk), now=now)
    with pytest.raises(AuthorizationRefused) as second:
        merchant_link_use(link=MerchantLink.objects.get(pk=link.pk), now=now)

    assert second.value.status == 410
    assert MerchantLink.objects.get().used_at == now


def test_the_send_page_says_how_links_behave_and_counts_open_ones(admin_client, new_store):
    url = reverse("admin:connections_store_send_link", args=[new_store.pk])
    before = admin_client.get(url).content.decode()
    store_send_authorization_link(store=new_store, email="a@acme.test")

    after = admin_client.get(url).content.decode()

    assert "works once and for 7 days" in before and "still open" not in before
    assert "<strong>1</strong> still open" in after
