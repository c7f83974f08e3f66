"""libbackorder for Python: an embeddable drop-catch (domain backorder) engine for registrars.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> import backorder
>>> engine = backorder.Engine.open_simulated(datetime(2026, 3, 2, tzinfo=timezone.utc))
>>> engine.create_account("alice", "USD").id
'alice'
>>> engine.fund("alice", Decimal("100.00"), "top-up-1").amount
Decimal('100.00')

Every call is one engine transaction and runs without the GIL. Amounts are ``decimal.Decimal``
(never floats), times timezone-aware ``datetime`` objects in UTC. A refused call raises the
:class:`BackorderError` subclass of its code and changes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type, TypeVar

from . import _backorder

__all__ = [
    "Account",
    "AuctionView",
    "AuditReport",
    "Backorder",
    "Balance",
    "Contacts",
    "Engine",
    "Event",
    "HistoryEntry",
    "Money",
    "PendingDeletion",
    "StatementLine",
    "TickReport",
    "Transfer",
    "BackorderError",
    "InvalidInputError",
    "NotFoundError",
    "LedgerError",
    "LifecycleError",
    "AuctionError",
    "EngineFailure",
    "ERRORS",
    "InvalidDomainNameError",
    "UnknownTldError",
    "InvalidCurrencyError",
    "InvalidAmountError",
    "CurrencyMismatchError",
    "InvalidArgumentError",
    "AccountNotFoundError",
    "AccountExistsError",
    "BackorderNotFoundError",
    "AuctionNotFoundError",
    "ReservationNotFoundError",
    "InsufficientFundsError",
    "IdempotencyConflictError",
    "ReservationResolvedError",
    "CaptureExceedsReservationError",
    "InvalidTransitionError",
    "StatusDoesNotAllowError",
    "PlacementClosedError",
    "CancellationClosedError",
    "CancellationNotAllowedError",
    "DuplicateBackorderError",
    "NameAlreadyBackorderedError",
    "PremiumNameError",
    "LiteNotOfferedError",
    "AuctionNotOpenError",
    "BidTooLowError",
    "PaymentNotDueError",
    "StoreError",
    "RegistryError",
    "InternalError",
]

__version__: str = _backorder.__version__


# --- errors ---------------------------------------------------------------------------------


class BackorderError(Exception):
    """A refused or failed engine call. ``code`` is the engine's error code name (the same in
    Rust, C, Python and Node), ``number`` its number; the call changed nothing."""

    code: str = "INTERNAL"
    number: int = 999

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(BackorderError):
    """Bad input: a name, zone, currency, amount or argument (codes 100-199)."""


class NotFoundError(BackorderError):
    """No such account, backorder, auction or reservation (codes 200-299)."""


class LedgerError(BackorderError):
    """The ledger refused: short balance, a reused idempotency key, ... (codes 300-399)."""


class LifecycleError(BackorderError):
    """The backorder's life cycle does not allow the request (codes 400-499)."""


class AuctionError(BackorderError):
    """The auction refused the request (codes 500-599)."""


class EngineFailure(BackorderError):
    """The store or registry failed, or a bug (codes 900-999)."""


class InvalidDomainNameError(InvalidInputError):
    """The text is not a valid domain name."""

    code = "INVALID_DOMAIN_NAME"
    number = 100


class UnknownTldError(InvalidInputError):
    """No backorders are offered in the name's zone."""

    code = "UNKNOWN_TLD"
    number = 101


class InvalidCurrencyError(InvalidInputError):
    """Not an ISO 4217 currency code."""

    code = "INVALID_CURRENCY"
    number = 102


class InvalidAmountError(InvalidInputError):
    """Not a valid amount (not a decimal, not positive, a float)."""

    code = "INVALID_AMOUNT"
    number = 103


class CurrencyMismatchError(InvalidInputError):
    """Two amounts in different currencies met."""

    code = "CURRENCY_MISMATCH"
    number = 104


class InvalidArgumentError(InvalidInputError):
    """An argument is missing or malformed."""

    code = "INVALID_ARGUMENT"
    number = 105


class AccountNotFoundError(NotFoundError):
    """No such account."""

    code = "ACCOUNT_NOT_FOUND"
    number = 200


class AccountExistsError(NotFoundError):
    """The account exists already."""

    code = "ACCOUNT_EXISTS"
    number = 201


class BackorderNotFoundError(NotFoundError):
    """No such backorder (or it is another account's)."""

    code = "BACKORDER_NOT_FOUND"
    number = 202


class AuctionNotFoundError(NotFoundError):
    """No such auction."""

    code = "AUCTION_NOT_FOUND"
    number = 203


class ReservationNotFoundError(NotFoundError):
    """No such reservation."""

    code = "RESERVATION_NOT_FOUND"
    number = 204


class InsufficientFundsError(LedgerError):
    """The available balance is short."""

    code = "INSUFFICIENT_FUNDS"
    number = 300


class IdempotencyConflictError(LedgerError):
    """An idempotency key was used before with other fields."""

    code = "IDEMPOTENCY_CONFLICT"
    number = 301


class ReservationResolvedError(LedgerError):
    """The reservation was captured or released already."""

    code = "RESERVATION_RESOLVED"
    number = 302


class CaptureExceedsReservationError(LedgerError):
    """A capture larger than its reservation."""

    code = "CAPTURE_EXCEEDS_RESERVATION"
    number = 303


class InvalidTransitionError(LifecycleError):
    """The transition table does not allow the change."""

    code = "INVALID_TRANSITION"
    number = 400


class StatusDoesNotAllowError(LifecycleError):
    """The backorder's status does not allow the request."""

    code = "STATUS_DOES_NOT_ALLOW"
    number = 401


class PlacementClosedError(LifecycleError):
    """Placing is closed for the name."""

    code = "PLACEMENT_CLOSED"
    number = 402


class CancellationClosedError(LifecycleError):
    """Cancelling is closed (the finalization date passed)."""

    code = "CANCELLATION_CLOSED"
    number = 403


class CancellationNotAllowedError(LifecycleError):
    """This backorder cannot be cancelled."""

    code = "CANCELLATION_NOT_ALLOWED"
    number = 404


class DuplicateBackorderError(LifecycleError):
    """The account has an open backorder on the name already."""

    code = "DUPLICATE_BACKORDER"
    number = 405


class NameAlreadyBackorderedError(LifecycleError):
    """Another customer has paid for the name."""

    code = "NAME_ALREADY_BACKORDERED"
    number = 406


class PremiumNameError(LifecycleError):
    """The name is premium: not offered."""

    code = "PREMIUM_NAME"
    number = 407


class LiteNotOfferedError(LifecycleError):
    """The zone offers no lite backorders."""

    code = "LITE_NOT_OFFERED"
    number = 408


class AuctionNotOpenError(AuctionError):
    """The auction does not take bids now."""

    code = "AUCTION_NOT_OPEN"
    number = 500


class BidTooLowError(AuctionError):
    """The bid is below the minimum."""

    code = "BID_TOO_LOW"
    number = 501


class PaymentNotDueError(AuctionError):
    """Nothing is due on this backorder."""

    code = "PAYMENT_NOT_DUE"
    number = 502


class StoreError(EngineFailure):
    """The store failed (database unreachable, a conflict that kept recurring)."""

    code = "STORE"
    number = 900


class RegistryError(EngineFailure):
    """The registry failed."""

    code = "REGISTRY"
    number = 901


class InternalError(EngineFailure):
    """A bug in libbackorder."""

    code = "INTERNAL"
    number = 999


#: Every error code name and its exception class.
ERRORS: Dict[str, Type[BackorderError]] = {
    "INVALID_DOMAIN_NAME": InvalidDomainNameError,
    "UNKNOWN_TLD": UnknownTldError,
    "INVALID_CURRENCY": InvalidCurrencyError,
    "INVALID_AMOUNT": InvalidAmountError,
    "CURRENCY_MISMATCH": CurrencyMismatchError,
    "INVALID_ARGUMENT": InvalidArgumentError,
    "ACCOUNT_NOT_FOUND": AccountNotFoundError,
    "ACCOUNT_EXISTS": AccountExistsError,
    "BACKORDER_NOT_FOUND": BackorderNotFoundError,
    "AUCTION_NOT_FOUND": AuctionNotFoundError,
    "RESERVATION_NOT_FOUND": ReservationNotFoundError,
    "INSUFFICIENT_FUNDS": InsufficientFundsError,
    "IDEMPOTENCY_CONFLICT": IdempotencyConflictError,
    "RESERVATION_RESOLVED": ReservationResolvedError,
    "CAPTURE_EXCEEDS_RESERVATION": CaptureExceedsReservationError,
    "INVALID_TRANSITION": InvalidTransitionError,
    "STATUS_DOES_NOT_ALLOW": StatusDoesNotAllowError,
    "PLACEMENT_CLOSED": PlacementClosedError,
    "CANCELLATION_CLOSED": CancellationClosedError,
    "CANCELLATION_NOT_ALLOWED": CancellationNotAllowedError,
    "DUPLICATE_BACKORDER": DuplicateBackorderError,
    "NAME_ALREADY_BACKORDERED": NameAlreadyBackorderedError,
    "PREMIUM_NAME": PremiumNameError,
    "LITE_NOT_OFFERED": LiteNotOfferedError,
    "AUCTION_NOT_OPEN": AuctionNotOpenError,
    "BID_TOO_LOW": BidTooLowError,
    "PAYMENT_NOT_DUE": PaymentNotDueError,
    "STORE": StoreError,
    "REGISTRY": RegistryError,
    "INTERNAL": InternalError,
}


def _raise(native: BaseException) -> typing.NoReturn:
    code, _number, message = native.args
    raise ERRORS.get(code, ERRORS["INTERNAL"])(message) from None


# --- records --------------------------------------------------------------------------------

T = TypeVar("T")


def _time(text: str) -> datetime:
    # The engine writes RFC 3339 in UTC ("...Z") with 0, 3, 6 or 9 fraction digits; Python
    # keeps six.
    if len(text) > 27:  # nine fraction digits
        text = text[:26] + "Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _identity(value: Any) -> Any:
    return value


Converter = typing.Callable[[Any], Any]


@functools.lru_cache(maxsize=None)
def _converter(kind: Any) -> Converter:
    """How to turn a JSON value into `kind`, worked out once per annotation."""
    origin = typing.get_origin(kind)
    if origin is typing.Union:
        inner = _converter([k for k in typing.get_args(kind) if k is not type(None)][0])
        return lambda v: None if v is None else inner(v)
    if origin in (list, List):
        item = _converter(typing.get_args(kind)[0])
        return lambda v: [item(x) for x in v]
    if origin in (dict, Dict):
        value = _converter(typing.get_args(kind)[1])
        return lambda v: {k: value(x) for k, x in v.items()}
    if kind is Decimal:
        return Decimal
    if kind is datetime:
        return _time
    if dataclasses.is_dataclass(kind):
        return lambda v: _record(typing.cast(Type[Any], kind), v)
    return _identity


@functools.lru_cache(maxsize=None)
def _fields(cls: Any) -> Tuple[Dict[str, Converter], ...]:
    # A dataclass's annotations are evaluated once, into one converter a field.
    hints = typing.get_type_hints(cls)
    return ({f.name: _converter(hints[f.name]) for f in dataclasses.fields(cls)},)


def _record(cls: Type[T], data: Mapping[str, Any]) -> T:
    (fields,) = _fields(typing.cast(Any, cls))
    if any(key not in fields for key in data):
        unknown = sorted(set(data) - set(fields))
        raise ERRORS["INTERNAL"](f"{cls.__name__} has no fields {unknown}")
    get = data.get
    return cls(**{name: convert(get(name)) for name, convert in fields.items()})


@dataclass(frozen=True)
class Money:
    """An amount in a currency."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Contacts:
    """Registry contact handles for the four roles (None: not given)."""

    owner: Optional[str] = None
    admin: Optional[str] = None
    tech: Optional[str] = None
    billing: Optional[str] = None

    def to_json(self) -> Dict[str, Optional[str]]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class HistoryEntry:
    """One status change of a backorder."""

    at: datetime
    from_: Optional[str]
    to: str
    reason: str


@dataclass(frozen=True)
class Account:
    """A customer account."""

    id: str
    currency: str
    contacts: Contacts
    outstanding: Decimal
    created_at: datetime


@dataclass(frozen=True)
class Balance:
    """An account's balance, reserved deposits and what is available."""

    account: str
    currency: str
    balance: Decimal
    reserved: Decimal
    available: Decimal


@dataclass(frozen=True)
class Transfer:
    """A journal entry."""

    id: int
    key: str
    kind: str
    debit: str
    credit: str
    amount: Decimal
    currency: str
    pending_id: Optional[int]
    backorder: Optional[int]
    at: datetime


@dataclass(frozen=True)
class StatementLine:
    """One line of an account statement."""

    transfer: int
    at: datetime
    kind: str
    amount: Decimal
    balance_change: Decimal
    reserved_change: Decimal
    backorder: Optional[int]
    key: str


@dataclass(frozen=True)
class PendingDeletion:
    """A name on the pending-delete list."""

    domain: str
    drop_at: datetime
    withdrawn: bool
    updated_at: datetime


Backorder = _backorder.Backorder
"""A backorder (an application, in HEXONET's words): a native, immutable record whose attributes
become Python values when read (see ``_backorder.pyi`` for each); equal when every one is."""


@dataclass(frozen=True)
class AuctionView:
    """What a participant may see of an auction."""

    id: int
    domain: str
    state: str
    starts_at: datetime
    ends_at: datetime
    currency: str
    opening_price: Decimal
    price: Decimal
    minimum_bid: Decimal
    your_max: Decimal
    leading: bool
    participants: int
    bids: int


@dataclass(frozen=True)
class TickReport:
    """What one tick did."""

    now: Optional[datetime]
    steps: int
    drops: int
    caught: int
    auctions_scheduled: int
    errors: List[str]


@dataclass(frozen=True)
class Event:
    """An outbox event. ``kind`` is the event's own record (its ``type`` says which)."""

    seq: int
    at: datetime
    account: Optional[str]
    backorder: Optional[int]
    domain: Optional[str]
    kind: Dict[str, Any]


@dataclass(frozen=True)
class AuditReport:
    """What the audit re-derived and found; clean when ``problems`` is empty."""

    ledger_accounts: int
    transfers: int
    reservations: int
    backorders: int
    total_debits: Decimal
    total_credits: Decimal
    journal_totals: Dict[str, Decimal]
    problems: List[str]

    @property
    def is_clean(self) -> bool:
        return not self.problems


def _utc(at: datetime, name: str) -> str:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ERRORS["INVALID_ARGUMENT"](f"{name} must be a timezone-aware datetime")
    return at.astimezone(timezone.utc).isoformat()


def _amount(value: Decimal, name: str) -> str:
    if isinstance(value, float) or not isinstance(value, (Decimal, int, str)):
        raise ERRORS["INVALID_AMOUNT"](f"{name} must be a Decimal (not {type(value).__name__})")
    return str(value)


_NO_CONTACTS = Contacts()


def _handles(contacts: Contacts) -> Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]:
    if not isinstance(contacts, Contacts):
        raise ERRORS["INVALID_ARGUMENT"](
            f"contacts must be backorder.Contacts (not {type(contacts).__name__})"
        )
    return (contacts.owner, contacts.admin, contacts.tech, contacts.billing)


# --- the engine -----------------------------------------------------------------------------


class Engine:
    """An open engine: its store, clock, registry and auctions. Safe to share between threads."""

    def __init__(self, native: _backorder.NativeEngine) -> None:
        self._native = native

    @staticmethod
    def open(url: str = "memory:") -> "Engine":
        """Opens an engine on the store ``url`` names (``memory:``, ``sqlite:PATH``,
        ``postgres://...``) with the system clock."""
        try:
            return Engine(_backorder.NativeEngine.open(url))
        except _backorder.NativeError as e:
            _raise(e)

    @staticmethod
    def open_simulated(
        start: datetime,
        url: str = "memory:",
        seed: int = 0,
        outcomes: Optional[Mapping[str, str]] = None,
        catch_permille: Optional[int] = None,
        contested_catch_permille: Optional[int] = None,
    ) -> "Engine":
        """Opens an engine for tests and simulations: its clock starts at ``start`` and moves
        only by :meth:`set_time`; a seeded simulated registry catches names (``outcomes`` fixes
        a name's: ``"CAUGHT"``, ``"TAKEN"``, ``"NOT_DROPPED"`` or ``"PREMIUM"``)."""
        simulation: Dict[str, Any] = {
            "start": _utc(start, "start"),
            "seed": seed,
            "outcomes": {d: {"outcome": o} for d, o in (outcomes or {}).items()},
        }
        if catch_permille is not None:
            simulation["catch_permille"] = catch_permille
        if contested_catch_permille is not None:
            simulation["contested_catch_permille"] = contested_catch_permille
        try:
            return Engine(_backorder.NativeEngine.open_simulated(url, json.dumps(simulation)))
        except _backorder.NativeError as e:
            _raise(e)

    def _call(self, op: str, **args: Any) -> Any:
        try:
            return json.loads(self._native.call(op, json.dumps(args)))
        except _backorder.NativeError as e:
            _raise(e)

    # time
    def now(self) -> datetime:
        """The engine's time."""
        return _time(self._call("now"))

    def set_time(self, at: datetime) -> None:
        """Moves a simulated engine's clock forward to ``at``."""
        self._call("set_time", at=_utc(at, "at"))

    # policies
    def policies(self) -> List[Dict[str, Any]]:
        """The zone policies (each as the engine's ``TldPolicy`` record, a dict)."""
        return typing.cast(List[Dict[str, Any]], self._call("policies"))

    def set_policy(self, policy: Mapping[str, Any]) -> None:
        """Adds or replaces a zone policy (a ``TldPolicy`` dict, as :meth:`policies` gives)."""
        self._call("set_policy", policy=dict(policy))

    # accounts and money
    def create_account(
        self, id: str, currency: str, contacts: Optional[Contacts] = None
    ) -> Account:
        """Creates a customer account."""
        new = {"id": id, "currency": currency, "contacts": (contacts or Contacts()).to_json()}
        return _record(Account, self._call("create_account", account=new))

    def account(self, account: str) -> Account:
        """An account."""
        return _record(Account, self._call("account", account=account))

    def set_contacts(self, account: str, contacts: Contacts) -> Account:
        """Sets an account's default contact handles."""
        return _record(
            Account, self._call("set_contacts", account=account, contacts=contacts.to_json())
        )

    def set_outstanding(self, account: str, amount: Decimal) -> Account:
        """Sets what the customer owes the registrar outside the engine."""
        return _record(
            Account,
            self._call("set_outstanding", account=account, amount=_amount(amount, "amount")),
        )

    def fund(self, account: str, amount: Decimal, idempotency_key: str) -> Transfer:
        """Tops up a prepaid balance; repeating the key returns the first result."""
        return _record(
            Transfer,
            self._call(
                "fund",
                account=account,
                amount=_amount(amount, "amount"),
                idempotency_key=idempotency_key,
            ),
        )

    def balance(self, account: str) -> Balance:
        """An account's balance, reserved and available amounts."""
        return _record(Balance, self._call("balance", account=account))

    def statement(self, account: str, after: int = 0, limit: int = 100) -> List[StatementLine]:
        """Up to ``limit`` statement lines after journal entry ``after``."""
        lines = self._call("statement", account=account, after=after, limit=limit)
        return [_record(StatementLine, line) for line in lines]

    # the catalog
    def add_pending_deletion(self, domain: str, drop_at: datetime) -> PendingDeletion:
        """Lists a name to drop at ``drop_at`` (or moves its deletion time)."""
        data = self._call(
            "add_pending_deletion", domain=domain, drop_at=_utc(drop_at, "drop_at")
        )
        return _record(PendingDeletion, data)

    def pending_deletion(self, domain: str) -> Optional[PendingDeletion]:
        """A name's pending-delete entry, if listed."""
        data = self._call("pending_deletion", domain=domain)
        return None if data is None else _record(PendingDeletion, data)

    def withdraw_pending_deletion(self, domain: str) -> int:
        """Takes a name off the list; returns how many backorders were cancelled."""
        return int(self._call("withdraw_pending_deletion", domain=domain))

    def import_pending_list(self, data: bytes, withdraw_missing: bool = True) -> Dict[str, Any]:
        """Imports a deletion list (HEXONET CSV, IETF drop list, CSV/TSV, or a zip of one);
        the engine's ``ImportReport`` as a dict. Runs without the GIL."""
        try:
            options = json.dumps({"withdraw_missing": withdraw_missing})
            report = self._native.import_pending_list(bytes(data), options)
        except _backorder.NativeError as e:
            _raise(e)
        return typing.cast(Dict[str, Any], json.loads(report))

    def search_pending(self, **query: Any) -> Dict[str, Any]:
        """Searches the catalog (``keywords=[...]``, ``zones=[...]``, ...: the fields of the
        engine's ``SearchQuery``); its ``SearchResult`` as a dict."""
        return typing.cast(Dict[str, Any], self._call("search_pending", query=query))

    def subscribe_alerts(self, account: str, keywords: List[str], **options: Any) -> Dict[str, Any]:
        """Subscribes to keyword alerts; the ``Subscription`` as a dict."""
        request = {"account": account, "keywords": keywords, **options}
        return typing.cast(Dict[str, Any], self._call("subscribe_alerts", request=request))

    def unsubscribe_alerts(self, account: str, id: int) -> None:
        """Ends one of the account's subscriptions."""
        self._call("unsubscribe_alerts", account=account, id=id)

    def alert_subscriptions(self, account: str) -> List[Dict[str, Any]]:
        """The account's alert subscriptions."""
        return typing.cast(List[Dict[str, Any]], self._call("alert_subscriptions", account=account))

    # backorders: native calls that answer native records (the hot path, no JSON between)
    def place_backorder(
        self,
        account: str,
        domain: str,
        lite: bool = False,
        contacts: Optional[Contacts] = None,
        idempotency_key: Optional[str] = None,
    ) -> Backorder:
        """Places a backorder."""
        handles = _handles(contacts or _NO_CONTACTS)
        try:
            return self._native.place_backorder(account, domain, lite, handles, idempotency_key)
        except _backorder.NativeError as e:
            _raise(e)

    def backorder(self, account: str, id: int) -> Backorder:
        """One of the account's backorders."""
        try:
            return self._native.backorder(account, id)
        except _backorder.NativeError as e:
            _raise(e)

    def backorders(self, account: str) -> List[Backorder]:
        """Every backorder of the account, oldest first."""
        try:
            return self._native.backorders(account)
        except _backorder.NativeError as e:
            _raise(e)

    def modify_backorder(self, account: str, id: int, contacts: Contacts) -> Backorder:
        """Changes a backorder's contact handles."""
        handles = _handles(contacts)
        try:
            return self._native.modify_backorder(account, id, handles)
        except _backorder.NativeError as e:
            _raise(e)

    def cancel_backorder(
        self, account: str, id: int, idempotency_key: Optional[str] = None
    ) -> Backorder:
        """Cancels a backorder (until its finalization date)."""
        try:
            return self._native.cancel_backorder(account, id, idempotency_key)
        except _backorder.NativeError as e:
            _raise(e)

    def pay(self, account: str, id: int, idempotency_key: Optional[str] = None) -> Backorder:
        """Pays what is due on a backorder from the prepaid balance."""
        try:
            return self._native.pay(account, id, idempotency_key)
        except _backorder.NativeError as e:
            _raise(e)

    def bid(
        self, account: str, id: int, max: Decimal, idempotency_key: Optional[str] = None
    ) -> AuctionView:
        """Bids up to ``max`` in the auction of the account's backorder ``id``."""
        data = self._call(
            "bid",
            account=account,
            id=id,
            max=_amount(max, "max"),
            idempotency_key=idempotency_key,
        )
        return _record(AuctionView, data)

    def auction(self, account: str, id: int) -> AuctionView:
        """The auction of the account's backorder ``id``."""
        return _record(AuctionView, self._call("auction", account=account, id=id))

    # time-driven work and the outbox
    def tick(self) -> TickReport:
        """Does all time-driven work due now. Runs without the GIL."""
        return _record(TickReport, self._call("tick"))

    def next_wake(self) -> Optional[datetime]:
        """When time-driven work is next due."""
        at = self._call("next_wake")
        return None if at is None else _time(at)

    def events(self, after: int = 0, limit: int = 1000) -> List[Event]:
        """Up to ``limit`` outbox events after sequence number ``after``."""
        return [_record(Event, e) for e in self._call("events", after=after, limit=limit)]

    def ack_events(self, upto: int) -> None:
        """Acknowledges the events up to ``upto``."""
        self._call("ack_events", upto=upto)

    def audit(self) -> AuditReport:
        """Re-derives every balance from the journal and checks every invariant."""
        return _record(AuditReport, self._call("audit"))

    def status_counts(self) -> Dict[str, int]:
        """How many backorders are in each status."""
        return typing.cast(Dict[str, int], self._call("status_counts"))
