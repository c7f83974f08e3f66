"""The seed documents' flows through the Python module, with the statuses and exact amounts of the
Rust scenario (runtime/tests/seed_flows.rs) and the C one (tests/c/seed_flows.c): HEXONET's five
steps with a private auction (.com, fee 49 USD) and Alibaba's pre-release (.info, 39 USD)."""

import types
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import pytest

import backorder
from backorder import Contacts, Engine, HistoryEntry, Money

START = datetime(2026, 3, 2, tzinfo=timezone.utc)


def scripted(outcomes: Dict[str, str]) -> Engine:
    return Engine.open_simulated(START, seed=1, outcomes=outcomes)


def full(handle: str) -> Contacts:
    return Contacts(owner=handle, admin=handle, tech=handle, billing=handle)


def usd(*amounts: int) -> Tuple[Decimal, ...]:
    return tuple(Decimal(a) for a in amounts)


def balance(e: Engine, account: str) -> Tuple[Decimal, ...]:
    b = e.balance(account)
    return (b.balance, b.reserved, b.available)


def at(e: Engine, t: datetime) -> None:
    e.set_time(t)
    assert e.tick().errors == []


def events_of(e: Engine, backorder_id: int, kind: str) -> int:
    return sum(
        1 for ev in e.events(0, 100000) if ev.backorder == backorder_id and ev.kind["type"] == kind
    )


def from_json(name: str, value: Any) -> Any:
    """A backorder field as the engine's JSON has it, in the Python types the records use."""
    if value is None:
        return None
    if name == "contacts":
        return Contacts(**value)
    if name == "price":
        return Money(Decimal(value["amount"]), value["currency"])
    if name == "history":
        return [
            HistoryEntry(backorder._time(h["at"]), h["from"], h["to"], h["reason"]) for h in value
        ]
    if name in ("amount_due", "paid"):
        return Decimal(value)
    if name.endswith("_at") or name in ("pay_by", "registered_until"):
        return backorder._time(value)
    return value


def same_as_json(e: Engine, accounts: List[str]) -> None:
    """The native Backorder records (src/records.rs) say exactly what the engine's JSON for the
    same backorders says, with every field of it as an attribute."""
    attributes = {
        n for n, v in vars(backorder.Backorder).items() if isinstance(v, types.GetSetDescriptorType)
    }
    seen = 0
    for account in accounts:
        for b in e.backorders(account):
            data = e._call("backorder", account=account, id=b.id)
            assert set(data) == attributes
            for name, value in data.items():
                assert getattr(b, name) == from_json(name, value), name
            seen += 1
    assert seen > 0


def test_hexonet_five_steps_with_exact_amounts() -> None:
    drop = START + timedelta(days=5, hours=19)
    e = scripted({"solo.com": "CAUGHT", "contest.com": "CAUGHT", "miss.com": "TAKEN"})
    for d in ["solo.com", "miss.com", "contest.com", "later.com", "poor.com"]:
        e.add_pending_deletion(d, drop)
    e.create_account("alice", "USD", full("ALICE-1"))
    e.create_account("bob", "USD")
    e.create_account("carol", "USD", full("CAROL-1"))
    e.create_account("dave", "USD", full("DAVE-1"))
    e.create_account("erin", "USD", full("ERIN-1"))

    # Step 1: every account starts at zero; placing is free.
    assert balance(e, "alice") == usd(0, 0, 0)
    solo = e.place_backorder("alice", "solo.com").id
    miss = e.place_backorder("alice", "miss.com").id
    a_contest = e.place_backorder("alice", "contest.com").id
    c_contest = e.place_backorder("carol", "contest.com").id
    d_contest = e.place_backorder("dave", "contest.com").id
    assert e.backorder("alice", solo).status == "REQUESTED"
    # Without contact handles: INCOMPLETE until they exist.
    later = e.place_backorder("bob", "later.com").id
    assert e.backorder("bob", later).status == "INCOMPLETE"
    e.set_contacts("bob", full("BOB-1"))
    assert e.backorder("bob", later).status == "REQUESTED"
    poor = e.place_backorder("erin", "poor.com").id
    e.fund("alice", Decimal(500), "alice-1")
    e.fund("carol", Decimal(300), "carol-1")
    e.fund("dave", Decimal(100), "dave-1")
    e.fund("bob", Decimal(20), "bob-1")
    assert e.cancel_backorder("bob", later).status == "CANCELLED"

    # Step 2: 72 h before the deletion the deposits are reserved.
    at(e, drop - timedelta(hours=72))
    for i in (solo, miss, a_contest):
        assert e.backorder("alice", i).status == "ACTIVE"
    assert balance(e, "alice") == usd(500, 147, 353)
    assert balance(e, "carol") == usd(300, 49, 251)
    # Not enough funds: INACTIVE, one low-balance notice however often it is retried.
    assert e.backorder("erin", poor).status == "INACTIVE"
    at(e, drop - timedelta(hours=60))
    assert events_of(e, poor, "low_balance") == 1
    # Still unfunded at the 24 h deadline: void, nothing reserved.
    at(e, drop - timedelta(hours=24))
    assert e.backorder("erin", poor).status == "EXPIRED"
    assert balance(e, "erin") == usd(0, 0, 0)
    # After the finalization date (deletion - 3 h) cancelling is refused.
    e.set_time(drop - timedelta(hours=2))
    with pytest.raises(backorder.CancellationClosedError):
        e.cancel_backorder("alice", miss)

    # Step 3: at the deletion time the backorders are processed.
    at(e, drop)
    missed = e.backorder("alice", miss)
    assert missed.status == "FAILED"
    assert [h.to for h in missed.history] == ["REQUESTED", "ACTIVE", "PROCESSING", "FAILED"]
    assert events_of(e, miss, "refunded") == 1
    # Step 4: caught with one backorder: SUCCESSFUL, the deposit captured as the fee.
    solo_b = e.backorder("alice", solo)
    assert solo_b.status == "SUCCESSFUL"
    assert solo_b.paid == Decimal(49)
    assert balance(e, "alice") == usd(451, 49, 402)

    # Step 5: caught with three backorders: a private auction among exactly those.
    for acct, i in [("alice", a_contest), ("carol", c_contest), ("dave", d_contest)]:
        assert e.backorder(acct, i).status == "AUCTION-PENDING"
        assert events_of(e, i, "auction_invitation") == 1
    view = e.auction("carol", c_contest)
    assert view.participants == 3
    assert view.opening_price == Decimal(49)
    with pytest.raises(backorder.AuctionNotOpenError):
        e.bid("carol", c_contest, Decimal(120))
    at(e, view.starts_at)
    e.bid("carol", c_contest, Decimal(120))
    v = e.bid("dave", d_contest, Decimal(100))
    # Carol leads; the price is Dave's 100 plus the increment at 100 (5).
    assert not v.leading
    assert v.price == Decimal(105)
    # A bid in the last ten minutes extends the end.
    ends = v.ends_at
    e.set_time(ends - timedelta(minutes=5))
    with pytest.raises(backorder.BidTooLowError):
        e.bid("dave", d_contest, Decimal(104))
    v = e.bid("dave", d_contest, Decimal(110))
    assert v.ends_at == ends + timedelta(minutes=5)
    assert v.price == Decimal(115)

    # The end: the winner owes the price; losers are released at once.
    at(e, v.ends_at)
    won = e.backorder("carol", c_contest)
    assert won.status == "AUCTION-WON"
    assert won.amount_due == Decimal(115)
    for acct, i in [("alice", a_contest), ("dave", d_contest)]:
        assert e.backorder(acct, i).status == "AUCTION-LOST"
    assert balance(e, "alice") == usd(451, 0, 451)
    assert balance(e, "dave") == usd(100, 0, 100)
    # Paying: the 49 deposit counts toward the 115; 66 is charged; the auth code is issued.
    paid = e.pay("carol", c_contest, idempotency_key="pay-1")
    assert paid.paid == Decimal(115)
    assert paid.amount_due is None
    assert paid.auth_code is not None and len(paid.auth_code) == 16
    assert e.pay("carol", c_contest, idempotency_key="pay-1") == paid
    assert balance(e, "carol") == usd(185, 0, 185)
    kinds = [line.kind for line in e.statement("carol")]
    assert kinds == ["FUND", "RESERVE", "CHARGE", "CAPTURE"]
    assert e.audit().is_clean
    same_as_json(e, ["alice", "bob", "carol", "dave", "erin"])


def test_alibaba_pre_release_with_exact_amounts() -> None:
    drop = START + timedelta(days=3)
    e = scripted(
        {
            "prerelease.info": "CAUGHT",
            "gone.info": "TAKEN",
            "owed.info": "TAKEN",
            "turned.info": "PREMIUM",
        }
    )
    for d in ["prerelease.info", "gone.info", "owed.info", "turned.info", "lonely.info"]:
        e.add_pending_deletion(d, drop)
    for u in ["u1", "u2", "u3"]:
        e.create_account(u, "USD", full("HANDLE-1"))
        e.fund(u, Decimal(100), f"{u}-fund")
    # Each name can be backordered by one customer only: the first to place and pay.
    first = e.place_backorder("u1", "prerelease.info").id
    second = e.place_backorder("u2", "prerelease.info").id
    assert e.backorder("u1", first).status == "PENDING-PAYMENT"
    assert e.backorder("u2", second).status == "PENDING-PAYMENT"
    assert e.pay("u1", first).status == "BACKORDERED"
    assert balance(e, "u1") == usd(100, 39, 61)
    assert e.backorder("u2", second).status == "CANCELLED"
    with pytest.raises(backorder.NameAlreadyBackorderedError):
        e.place_backorder("u3", "prerelease.info")
    with pytest.raises(backorder.CancellationNotAllowedError):
        e.cancel_backorder("u1", first)

    gone = e.place_backorder("u2", "gone.info").id
    e.pay("u2", gone)
    owed = e.place_backorder("u3", "owed.info").id
    e.pay("u3", owed)
    e.set_outstanding("u3", Decimal(10))
    turned = e.place_backorder("u3", "turned.info").id
    e.pay("u3", turned)
    with pytest.raises(backorder.NameAlreadyBackorderedError):
        e.place_backorder("u2", "turned.info")
    unpaid = e.place_backorder("u2", "lonely.info").id

    at(e, drop - timedelta(hours=3))
    assert e.backorder("u2", unpaid).status == "EXPIRED"
    at(e, drop)
    won = e.backorder("u1", first)
    assert won.status == "SUCCESSFUL"
    assert won.registered_until == datetime(2027, 3, 5, tzinfo=timezone.utc)
    assert balance(e, "u1") == usd(61, 0, 61)
    assert e.backorder("u2", gone).status == "FAILED"
    assert events_of(e, gone, "refunded") == 1
    # The 39 left the balance for the payment method.
    assert balance(e, "u2") == usd(61, 0, 61)
    assert any(
        line.kind == "PAYOUT" and line.amount == Decimal(39) for line in e.statement("u2")
    )
    assert events_of(e, owed, "refunded") == 1
    assert e.backorder("u3", turned).status == "FAILED"
    assert balance(e, "u3") == usd(100, 0, 100)
    assert e.audit().is_clean
    same_as_json(e, ["u1", "u2", "u3"])

