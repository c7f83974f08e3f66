"""Placing backorders through the Python package: the same placements as
examples/place_overhead (Rust) and benches/c/place_overhead.c, so that the difference per call is
the binding's own cost (argument conversion, the JSON round trip, the typed record built from the
result). scripts/bench-bindings runs it beside the others.

ROUNDS rounds, each on a fresh in-memory engine with ACCOUNTS funded customers, placing CALLS
backorders (customer i % ACCOUNTS, name i); prints the median nanoseconds per placement."""

import statistics
import time
from datetime import datetime, timezone
from decimal import Decimal

from backorder import Contacts, Engine

ROUNDS, ACCOUNTS, CALLS = 7, 1000, 100_000


def round_ns_per_call() -> float:
    e = Engine.open_simulated(datetime(2026, 3, 2, tzinfo=timezone.utc))
    handles = Contacts("H-1", "H-1", "H-1", "H-1")
    for i in range(ACCOUNTS):
        e.create_account(f"c{i:04d}", "USD", handles)
        e.fund(f"c{i:04d}", Decimal(1000), "top-up")
    start = time.perf_counter_ns()
    for i in range(CALLS):
        e.place_backorder(f"c{i % ACCOUNTS:04d}", f"name{i}.com")
    return (time.perf_counter_ns() - start) / CALLS


rounds = sorted(round_ns_per_call() for _ in range(ROUNDS))
print(
    f"Python: place_backorder {statistics.median(rounds):.0f} ns per call "
    f"(median of {ROUNDS} rounds of {CALLS}; {rounds[0]:.0f}-{rounds[-1]:.0f})"
)
