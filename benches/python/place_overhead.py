"""Placing backorders through the Python package: the same placements as
examples/place_overhead (Rust) and benches/c/place_overhead.c, so that the difference per call is
the binding's own cost (argument conversion and the native record). scripts/bench-bindings runs
it beside the others.

ROUNDS rounds, each on a fresh in-memory engine with ACCOUNTS funded customers, placing CALLS
backorders (customer i % ACCOUNTS, name i); prints the median nanoseconds per placement. The
backorder comes back as a native record whose attributes become Python values when read, so a
second figure reads every attribute of each one as well: what a caller pays that uses it all."""

import statistics
import time
from datetime import datetime, timezone
from decimal import Decimal

from backorder import Contacts, Engine

ROUNDS, ACCOUNTS, CALLS = 7, 1000, 100_000


FIELDS = [
    "id", "account", "domain", "model", "status", "lite", "contacts", "price", "drop_at",
    "finalization_at", "deposit_opens_at", "deposit_deadline_at", "deposit_retry_secs",
    "created_at", "updated_at", "reservation", "low_balance_notified", "auction", "amount_due",
    "pay_by", "paid", "auth_code", "registered_until", "history",
]


def round_ns_per_call(read_all: bool) -> float:
    e = Engine.open_simulated(datetime(2026, 3, 2, tzinfo=timezone.utc))
    handles = Contacts("H-1", "H-1", "H-1", "H-1")
    for i in range(ACCOUNTS):
        e.create_account(f"c{i:04d}", "USD", handles)
        e.fund(f"c{i:04d}", Decimal(1000), "top-up")
    start = time.perf_counter_ns()
    if read_all:
        for i in range(CALLS):
            b = e.place_backorder(f"c{i % ACCOUNTS:04d}", f"name{i}.com")
            for name in FIELDS:
                getattr(b, name)
    else:
        for i in range(CALLS):
            e.place_backorder(f"c{i % ACCOUNTS:04d}", f"name{i}.com")
    return (time.perf_counter_ns() - start) / CALLS


for label, read_all in [("Python", False), ("Python, reading every attribute", True)]:
    rounds = sorted(round_ns_per_call(read_all) for _ in range(ROUNDS))
    print(
        f"{label}: place_backorder {statistics.median(rounds):.0f} ns per call "
        f"(median of {ROUNDS} rounds of {CALLS}; {rounds[0]:.0f}-{rounds[-1]:.0f})"
    )
