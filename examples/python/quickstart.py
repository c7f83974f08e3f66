"""libbackorder from Python in one page: a customer backorders a name about to be deleted, the
deposit is secured 72 hours before the drop, the name is caught and the deposit captured.

    pip install bindings/python   # or: scripts/python-tests, which builds and runs this
    python examples/python/quickstart.py
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import backorder
from backorder import Contacts, Engine

start = datetime(2026, 3, 2, tzinfo=timezone.utc)
drop = start + timedelta(days=5)

# A simulated engine: in memory, its clock moved by hand, the registry catching the name.
# (Engine.open("sqlite:backorders.db") opens a durable one on the system clock.)
engine = Engine.open_simulated(start, outcomes={"example.com": "CAUGHT"})
engine.create_account("reseller-1", "USD", Contacts("RS-1", "RS-1", "RS-1", "RS-1"))
engine.fund("reseller-1", Decimal("100.00"), "top-up-1")  # idempotent by key
engine.add_pending_deletion("example.com", drop)

placed = engine.place_backorder("reseller-1", "example.com")
print("placed:", placed.id, placed.status, placed.price.amount, placed.price.currency)

engine.set_time(drop - timedelta(hours=72))
engine.tick()  # the deposit window: 49 USD reserved, ACTIVE
engine.set_time(drop)
print("at the drop:", engine.tick())

caught = engine.backorder("reseller-1", placed.id)
print("backorder:", caught.status, "registered until", caught.registered_until)
print("balance:", engine.balance("reseller-1"))

try:
    engine.fund("reseller-1", Decimal("-5"), "bad-1")
except backorder.InvalidAmountError as refused:
    print("funding -5:", refused.code, "-", refused)  # nothing changed

for event in engine.events():
    print("event", event.seq, event.kind["type"])
assert engine.audit().is_clean
