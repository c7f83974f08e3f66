"""The Python module: types at the boundary, every error class, state unchanged by a refused
call, threads sharing an engine while calls run without the GIL, and a small drop day."""

import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, List

import pytest

import backorder
from backorder import Contacts, Engine, _backorder

START = datetime(2026, 3, 2, tzinfo=timezone.utc)


def engine_with(account: str = "ann", funds: int = 100) -> Engine:
    e = Engine.open_simulated(START)
    e.create_account(account, "USD", Contacts("H-1", "H-1", "H-1", "H-1"))
    e.fund(account, Decimal(funds), "f1")
    return e


def test_money_is_decimal_and_times_are_aware() -> None:
    e = engine_with()
    t = e.fund("ann", Decimal("0.10"), "f2")
    assert isinstance(t.amount, Decimal) and t.amount == Decimal("0.10")
    assert t.at == START and t.at.tzinfo is not None
    b = e.place_backorder("ann", "example.com")
    assert isinstance(b.price.amount, Decimal) and b.price.amount == Decimal(49)
    assert b.created_at.utcoffset() == timedelta(0)
    assert e.now() == START
    assert backorder.__version__ == "0.1.0"


def test_floats_and_naive_times_are_refused() -> None:
    e = engine_with()
    with pytest.raises(backorder.InvalidAmountError):
        e.fund("ann", 1.5, "f2")  # type: ignore[arg-type]
    with pytest.raises(backorder.InvalidArgumentError):
        e.add_pending_deletion("a.com", datetime(2026, 3, 9))
    with pytest.raises(backorder.InvalidArgumentError):
        Engine.open_simulated(datetime(2026, 3, 2))


def test_every_error_class_mirrors_its_code() -> None:
    # The engine's own table: every code, with its number, has its class.
    assert [(c, cls.number) for c, cls in backorder.ERRORS.items()] == _backorder.error_codes()
    for code, cls in backorder.ERRORS.items():
        assert cls.code == code
        assert issubclass(cls, backorder.BackorderError)
        assert getattr(backorder, cls.__name__) is cls
    assert issubclass(backorder.InsufficientFundsError, backorder.LedgerError)
    assert issubclass(backorder.BidTooLowError, backorder.AuctionError)
    assert backorder.InsufficientFundsError.number == 300


def refusals(e: Engine) -> List[Callable[[], object]]:
    return [
        lambda: Engine.open("ftp://nowhere"),
        lambda: e.create_account("ann", "USD"),
        lambda: e.create_account("bob", "US"),
        lambda: e.balance("nobody"),
        lambda: e.fund("ann", Decimal("-5"), "f9"),
        lambda: e.fund("ann", Decimal("7"), "f1"),
        lambda: e.place_backorder("ann", "-bad-.com"),
        lambda: e.place_backorder("ann", "name.notazone"),
        lambda: e.backorder("ann", 42),
        lambda: e.auction("ann", 42),
        lambda: e.set_time(START - timedelta(seconds=1)),
        lambda: e.pay("ann", 42),
        # Wrong Python types reach the native calls as the engine's own refusal, not TypeError.
        lambda: e.place_backorder(7, "x.com"),  # type: ignore[arg-type]
        lambda: e.place_backorder("ann", "x.com", lite="yes"),  # type: ignore[arg-type]
        lambda: e.place_backorder("ann", "x.com", contacts=("H-1",)),  # type: ignore[arg-type]
        lambda: e.place_backorder("ann", "x.com", Contacts(owner=5)),  # type: ignore[arg-type]
        lambda: e.backorder("ann", -1),
        lambda: e.pay("ann", True),
        lambda: e.cancel_backorder("ann", 1, idempotency_key=b"k"),  # type: ignore[arg-type]
    ]


def test_refused_calls_raise_their_class_and_change_nothing() -> None:
    e = engine_with()
    expected = [
        backorder.InvalidArgumentError,
        backorder.AccountExistsError,
        backorder.InvalidArgumentError,
        backorder.AccountNotFoundError,
        backorder.InvalidAmountError,
        backorder.IdempotencyConflictError,
        backorder.InvalidDomainNameError,
        backorder.UnknownTldError,
        backorder.BackorderNotFoundError,
        backorder.BackorderNotFoundError,
        backorder.InvalidArgumentError,
        backorder.BackorderNotFoundError,
        *[backorder.InvalidArgumentError] * 7,
    ]
    before = (e.balance("ann"), e.backorders("ann"), e.audit().transfers)
    for call, cls in zip(refusals(e), expected):
        with pytest.raises(cls) as info:
            call()
        assert info.value.code == cls.code
        assert str(info.value)
    assert (e.balance("ann"), e.backorders("ann"), e.audit().transfers) == before
    e.place_backorder("ann", "ok.com")
    with pytest.raises(backorder.DuplicateBackorderError):
        e.place_backorder("ann", "ok.com")
    # A system-clock engine has no settable time.
    with pytest.raises(backorder.InvalidArgumentError):
        Engine.open().set_time(START)


def test_a_backorder_is_an_immutable_record() -> None:
    e = engine_with()
    b = e.place_backorder("ann", "example.com", contacts=Contacts(tech="T-9"))
    assert b == e.backorder("ann", b.id) and b != e.place_backorder("ann", "other.com")
    assert e.backorders("ann")[0] == b
    assert b.contacts == Contacts(tech="T-9") and b.price == backorder.Money(Decimal(49), "USD")
    assert [(h.from_, h.to, h.reason) for h in b.history] == [(None, "REQUESTED", "PLACED")]
    assert b.history[0].at == START and b.drop_at is None and b.paid == Decimal(0)
    assert repr(b).startswith("Backorder(id=1, account='ann', domain='example.com', model='AUCTION'")
    with pytest.raises(AttributeError):
        b.status = "ACTIVE"  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(b)


def test_threads_share_an_engine() -> None:
    e = Engine.open_simulated(START)
    for t in range(4):
        e.create_account(f"t{t}", "USD")
    failures: List[BaseException] = []

    def place(t: int) -> None:
        try:
            for i in range(50):
                e.place_backorder(f"t{t}", f"t{t}-name{i}.com")
        except BaseException as error:  # collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=place, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert e.status_counts()["INCOMPLETE"] == 200
    assert e.audit().is_clean


def test_a_long_call_lets_other_threads_run() -> None:
    # With a switch interval far longer than the test, this thread gives up the GIL only where
    # it blocks: if the import held the GIL, the other thread could not count during it.
    e = Engine.open_simulated(START)
    lines = "".join(f"name{i}.com;2026-03-09 19:00:00\n" for i in range(100_000))
    counted = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal counted
        while not stop.is_set():
            counted += 1
            time.sleep(0)  # gives the GIL back at once

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    counter = threading.Thread(target=count)
    try:
        counter.start()
        time.sleep(0.01)
        before = counted
        report = e.import_pending_list(lines.encode())
        during = counted - before
    finally:
        stop.set()
        counter.join()
        sys.setswitchinterval(interval)
    assert report["added"] == 100_000
    assert during > 0


def test_a_small_drop_day() -> None:
    e = Engine.open_simulated(START, seed=7, catch_permille=700, contested_catch_permille=600)
    drop = START + timedelta(days=4)
    names = [f"name{i}.com" for i in range(30)]
    for n in names:
        e.add_pending_deletion(n, drop)
    for a in range(6):
        e.create_account(f"c{a}", "USD", Contacts("H-1", "H-1", "H-1", "H-1"))
        e.fund(f"c{a}", Decimal(1000), "top-up")
    for i, n in enumerate(names):
        for a in range(1 + i % 3):
            e.place_backorder(f"c{(i + a) % 6}", n)
    # Through the drop and every auction and payment deadline, bidding as auctions open.
    for _ in range(200):
        wake = e.next_wake()
        if wake is None or wake > drop + timedelta(days=30):
            break
        e.set_time(max(wake, e.now()))
        assert e.tick().errors == []
        for a in range(6):
            for b in e.backorders(f"c{a}"):
                if b.status == "AUCTION-PENDING":
                    try:
                        e.bid(f"c{a}", b.id, Decimal(60 + 10 * a))
                    except (backorder.AuctionNotOpenError, backorder.BidTooLowError):
                        pass
                elif b.status == "AUCTION-WON" and b.amount_due is not None:
                    e.pay(f"c{a}", b.id)
    counts = e.status_counts()
    assert counts["SUCCESSFUL"] > 0 and counts["FAILED"] > 0
    assert counts["AUCTION-WON"] > 0 and counts["AUCTION-LOST"] > 0
    assert sum(counts.values()) == sum(1 + i % 3 for i in range(30))
    assert e.audit().is_clean


def test_catalog_import_search_and_alerts() -> None:
    e = engine_with()
    sub = e.subscribe_alerts("ann", ["shop"])
    report = e.import_pending_list(
        b"myshop.com;2026-03-09 19:00:00\nother.net;2026-03-10 19:00:00\n",
        withdraw_missing=False,
    )
    assert report["added"] == 2 and report["alerts"] == 1
    assert e.search_pending(keywords=["shop"])["total"] == 1
    assert [s["id"] for s in e.alert_subscriptions("ann")] == [sub["id"]]
    entry = e.pending_deletion("myshop.com")
    assert entry is not None and entry.drop_at == datetime(2026, 3, 9, 19, tzinfo=timezone.utc)
    e.unsubscribe_alerts("ann", sub["id"])
    assert e.withdraw_pending_deletion("myshop.com") == 0
    assert any(ev.kind["type"] == "alert" for ev in e.events())
