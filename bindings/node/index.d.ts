/**
 * libbackorder for Node: an embeddable drop-catch (domain backorder) engine for registrars.
 *
 * Amounts are decimal strings ("49.00"), never numbers; times are `Date`s; a refused call throws
 * a `BackorderError` whose `code` is the engine's error code name and changes nothing. Record
 * fields keep the engine's names.
 */

/** A decimal amount as text, e.g. "49.00". */
export type Amount = string

export type ErrorCode =
  | 'INVALID_DOMAIN_NAME' | 'UNKNOWN_TLD' | 'INVALID_CURRENCY' | 'INVALID_AMOUNT'
  | 'CURRENCY_MISMATCH' | 'INVALID_ARGUMENT' | 'ACCOUNT_NOT_FOUND' | 'ACCOUNT_EXISTS'
  | 'BACKORDER_NOT_FOUND' | 'AUCTION_NOT_FOUND' | 'RESERVATION_NOT_FOUND' | 'INSUFFICIENT_FUNDS'
  | 'IDEMPOTENCY_CONFLICT' | 'RESERVATION_RESOLVED' | 'CAPTURE_EXCEEDS_RESERVATION'
  | 'INVALID_TRANSITION' | 'STATUS_DOES_NOT_ALLOW' | 'PLACEMENT_CLOSED' | 'CANCELLATION_CLOSED'
  | 'CANCELLATION_NOT_ALLOWED' | 'DUPLICATE_BACKORDER' | 'NAME_ALREADY_BACKORDERED'
  | 'PREMIUM_NAME' | 'LITE_NOT_OFFERED' | 'AUCTION_NOT_OPEN' | 'BID_TOO_LOW' | 'PAYMENT_NOT_DUE'
  | 'STORE' | 'REGISTRY' | 'INTERNAL'

/** Every error code name and its number (the same in Rust, C, Python and Node). */
export declare const CODES: Readonly<Record<ErrorCode, number>>

/** A refused or failed call; it changed nothing. */
export declare class BackorderError extends Error {
  readonly code: ErrorCode
  readonly number: number
}

export interface Contacts {
  owner?: string | null
  admin?: string | null
  tech?: string | null
  billing?: string | null
}

export interface Money { amount: Amount, currency: string }

export interface Account {
  id: string
  currency: string
  contacts: Required<Contacts>
  outstanding: Amount
  created_at: Date
}

export interface Balance {
  account: string
  currency: string
  balance: Amount
  reserved: Amount
  available: Amount
}

export interface Transfer {
  id: number
  key: string
  kind: string
  debit: string
  credit: string
  amount: Amount
  currency: string
  pending_id: number | null
  backorder: number | null
  at: Date
}

export interface StatementLine {
  transfer: number
  at: Date
  kind: string
  amount: Amount
  balance_change: Amount
  reserved_change: Amount
  backorder: number | null
  key: string
}

export interface PendingDeletion { domain: string, drop_at: Date, withdrawn: boolean, updated_at: Date }

export interface HistoryEntry { at: Date, from: string | null, to: string, reason: string }

export interface Backorder {
  id: number
  account: string
  domain: string
  model: 'AUCTION' | 'EXCLUSIVE'
  status: string
  lite: boolean
  contacts: Required<Contacts>
  price: Money
  drop_at: Date | null
  finalization_at: Date | null
  deposit_opens_at: Date | null
  deposit_deadline_at: Date | null
  deposit_retry_secs: number
  created_at: Date
  updated_at: Date
  reservation: number | null
  low_balance_notified: boolean
  auction: number | null
  amount_due: Amount | null
  pay_by: Date | null
  paid: Amount
  auth_code: string | null
  registered_until: Date | null
  history: HistoryEntry[]
}

export interface AuctionView {
  id: number
  domain: string
  state: string
  starts_at: Date
  ends_at: Date
  currency: string
  opening_price: Amount
  price: Amount
  minimum_bid: Amount
  your_max: Amount
  leading: boolean
  participants: number
  bids: number
}

export interface TickReport {
  now: Date | null
  steps: number
  drops: number
  caught: number
  auctions_scheduled: number
  errors: string[]
}

export interface Event {
  seq: number
  at: Date
  account: string | null
  backorder: number | null
  domain: string | null
  /** The event's own record; `type` says which (`status_changed`, `refunded`, ...). */
  kind: { type: string, [field: string]: unknown }
}

export interface AuditReport {
  ledger_accounts: number
  transfers: number
  reservations: number
  backorders: number
  total_debits: Amount
  total_credits: Amount
  journal_totals: Record<string, Amount>
  problems: string[]
}

export interface Simulation {
  start: Date
  url?: string
  seed?: number
  /** A name's fixed outcome: 'CAUGHT', 'TAKEN', 'NOT_DROPPED' or 'PREMIUM'. */
  outcomes?: Record<string, 'CAUGHT' | 'TAKEN' | 'NOT_DROPPED' | 'PREMIUM'>
  catchPermille?: number
  contestedCatchPermille?: number
}

/** An open engine. */
export declare class Engine {
  private constructor ()
  /** Opens an engine on the store `url` names (`memory:`, `sqlite:PATH`, `postgres://...`). */
  static open (url?: string): Engine
  /** Opens an engine on a manual clock with a seeded, scripted simulated registry. */
  static openSimulated (simulation: Simulation): Engine
  now (): Date
  /** Moves a simulated engine's clock forward. */
  setTime (at: Date): void
  policies (): Array<Record<string, unknown>>
  setPolicy (policy: Record<string, unknown>): void
  createAccount (id: string, currency: string, contacts?: Contacts): Account
  account (account: string): Account
  setContacts (account: string, contacts: Contacts): Account
  setOutstanding (account: string, amount: Amount): Account
  fund (account: string, amount: Amount, idempotencyKey: string): Transfer
  balance (account: string): Balance
  statement (account: string, after?: number, limit?: number): StatementLine[]
  addPendingDeletion (domain: string, dropAt: Date): PendingDeletion
  pendingDeletion (domain: string): PendingDeletion | null
  withdrawPendingDeletion (domain: string): number
  /** Imports a deletion list off the JavaScript thread; the engine's ImportReport. */
  importPendingList (data: Uint8Array, options?: { withdrawMissing?: boolean }): Promise<Record<string, unknown>>
  searchPending (query?: Record<string, unknown>): { total: number, first: number, limit: number, rows: Array<Record<string, unknown>> }
  subscribeAlerts (account: string, keywords: string[], options?: Record<string, unknown>): { id: number } & Record<string, unknown>
  unsubscribeAlerts (account: string, id: number): void
  alertSubscriptions (account: string): Array<{ id: number } & Record<string, unknown>>
  placeBackorder (account: string, domain: string, options?: { lite?: boolean, contacts?: Contacts, idempotencyKey?: string | null }): Backorder
  backorder (account: string, id: number): Backorder
  backorders (account: string): Backorder[]
  modifyBackorder (account: string, id: number, contacts: Contacts): Backorder
  cancelBackorder (account: string, id: number, idempotencyKey?: string | null): Backorder
  pay (account: string, id: number, idempotencyKey?: string | null): Backorder
  bid (account: string, id: number, max: Amount, idempotencyKey?: string | null): AuctionView
  auction (account: string, id: number): AuctionView
  /** Does all time-driven work due now, off the JavaScript thread. */
  tick (): Promise<TickReport>
  nextWake (): Date | null
  events (after?: number, limit?: number): Event[]
  ackEvents (upto: number): void
  audit (): AuditReport
  statusCounts (): Record<string, number>
}
