'use strict'
/**
 * libbackorder for Node: an embeddable drop-catch (domain backorder) engine for registrars.
 *
 * Every call is one engine transaction. Amounts are decimal strings ("49.00"), never numbers;
 * times are `Date`s; a refused call throws an `Error` whose `code` is the engine's error code
 * name (the same in Rust, C, Python and Node) and changes nothing. `tick` and
 * `importPendingList` run off the JavaScript thread and return Promises. Record fields keep
 * the engine's names (`created_at`, `amount_due`, ...); see index.d.ts.
 */
const { NativeEngine } = require('./backorder.node')

/** Record fields that hold times: turned into `Date`s. */
const TIME_FIELDS = new Set([
  'at', 'now', 'created_at', 'updated_at', 'drop_at', 'finalization_at', 'deposit_opens_at',
  'deposit_deadline_at', 'pay_by', 'registered_until', 'starts_at', 'ends_at', 'due_by',
])

/** The engine's error codes, by name. */
const CODES = Object.freeze({
  INVALID_DOMAIN_NAME: 100, UNKNOWN_TLD: 101, INVALID_CURRENCY: 102, INVALID_AMOUNT: 103,
  CURRENCY_MISMATCH: 104, INVALID_ARGUMENT: 105, ACCOUNT_NOT_FOUND: 200, ACCOUNT_EXISTS: 201,
  BACKORDER_NOT_FOUND: 202, AUCTION_NOT_FOUND: 203, RESERVATION_NOT_FOUND: 204,
  INSUFFICIENT_FUNDS: 300, IDEMPOTENCY_CONFLICT: 301, RESERVATION_RESOLVED: 302,
  CAPTURE_EXCEEDS_RESERVATION: 303, INVALID_TRANSITION: 400, STATUS_DOES_NOT_ALLOW: 401,
  PLACEMENT_CLOSED: 402, CANCELLATION_CLOSED: 403, CANCELLATION_NOT_ALLOWED: 404,
  DUPLICATE_BACKORDER: 405, NAME_ALREADY_BACKORDERED: 406, PREMIUM_NAME: 407,
  LITE_NOT_OFFERED: 408, AUCTION_NOT_OPEN: 500, BID_TOO_LOW: 501, PAYMENT_NOT_DUE: 502,
  STORE: 900, REGISTRY: 901, INTERNAL: 999,
})

/** An engine error: `code` is the code's name, `number` its number. */
class BackorderError extends Error {
  constructor (code, message) {
    super(message)
    this.name = 'BackorderError'
    this.code = code
    this.number = CODES[code] ?? 999
  }
}

function rethrow (e) {
  const text = String(e && e.message)
  const cut = text.indexOf('\u001f')
  if (cut < 0) throw e
  throw new BackorderError(text.slice(0, cut), text.slice(cut + 1))
}

function revive (key, value) {
  return typeof value === 'string' && TIME_FIELDS.has(key) ? new Date(value) : value
}

function decode (json) {
  return JSON.parse(json, revive)
}

function time (value, name) {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new BackorderError('INVALID_ARGUMENT', `${name} must be a valid Date`)
  }
  return value.toISOString()
}

function amount (value, name) {
  if (typeof value !== 'string') {
    throw new BackorderError('INVALID_AMOUNT', `${name} must be a decimal string, not ${typeof value}`)
  }
  return value
}

function refuse (name, what, value) {
  const given = value === null ? 'null' : typeof value
  throw new BackorderError('INVALID_ARGUMENT', `${name} must be ${what}, not ${given}`)
}

function text (value, name) {
  if (typeof value !== 'string') refuse(name, 'a string', value)
}

function optionalText (value, name) {
  if (value !== null && value !== undefined) text(value, name)
}

function flag (value, name) {
  if (typeof value !== 'boolean') refuse(name, 'a boolean', value)
}

function checkId (value) {
  if (!Number.isSafeInteger(value) || value < 0) refuse('id', 'a non-negative integer', value)
}

/** A time the native side sent as Unix milliseconds, or null. */
function date (ms) {
  return ms === null ? null : new Date(ms)
}

/**
 * A `Backorder` from the values the native backorder calls pass, in src/records.rs's order: one
 * object literal, which V8 builds far faster than native code setting properties.
 */
function backorderFrom (id, account, domain, model, status, lite, owner, admin, tech, billing,
  amount, currency, dropAt, finalizationAt, depositOpensAt, depositDeadlineAt, depositRetrySecs,
  createdAt, updatedAt, reservation, lowBalanceNotified, auction, amountDue, payBy, paid, authCode,
  registeredUntil, ...changes) {
  const history = []
  for (let i = 0; i < changes.length; i += 4) {
    history.push({ at: new Date(changes[i]), from: changes[i + 1], to: changes[i + 2], reason: changes[i + 3] })
  }
  return {
    id,
    account,
    domain,
    model,
    status,
    lite,
    contacts: { owner, admin, tech, billing },
    price: { amount, currency },
    drop_at: date(dropAt),
    finalization_at: date(finalizationAt),
    deposit_opens_at: date(depositOpensAt),
    deposit_deadline_at: date(depositDeadlineAt),
    deposit_retry_secs: depositRetrySecs,
    created_at: new Date(createdAt),
    updated_at: new Date(updatedAt),
    reservation,
    low_balance_notified: lowBalanceNotified,
    auction,
    amount_due: amountDue,
    pay_by: date(payBy),
    paid,
    auth_code: authCode,
    registered_until: date(registeredUntil),
    history,
  }
}

const ROLES = ['owner', 'admin', 'tech', 'billing']

/** Contact handles with every role present (`null` when not given); each a string or absent. */
function contacts (c) {
  if (c === null || c === undefined) return { owner: null, admin: null, tech: null, billing: null }
  if (typeof c !== 'object') refuse('contacts', 'an object', c)
  for (const role of ROLES) optionalText(c[role], `contacts.${role}`)
  return { owner: c.owner ?? null, admin: c.admin ?? null, tech: c.tech ?? null, billing: c.billing ?? null }
}

class Engine {
  /** @param {NativeEngine} native */
  constructor (native) {
    this._native = native
  }

  /** Opens an engine on the store `url` names (`memory:`, `sqlite:PATH`, `postgres://...`). */
  static open (url = 'memory:') {
    try {
      return new Engine(NativeEngine.open(url))
    } catch (e) { rethrow(e) }
  }

  /** Opens an engine for tests and simulations (a manual clock and a seeded registry). */
  static openSimulated ({ start, url = 'memory:', seed = 0, outcomes = {}, catchPermille, contestedCatchPermille } = {}) {
    const simulation = {
      start: time(start, 'start'),
      seed,
      outcomes: Object.fromEntries(Object.entries(outcomes).map(([d, o]) => [d, { outcome: o }])),
    }
    if (catchPermille !== undefined) simulation.catch_permille = catchPermille
    if (contestedCatchPermille !== undefined) simulation.contested_catch_permille = contestedCatchPermille
    try {
      return new Engine(NativeEngine.openSimulated(url, JSON.stringify(simulation)))
    } catch (e) { rethrow(e) }
  }

  _call (op, args = {}) {
    try {
      return decode(this._native.call(op, JSON.stringify(args)))
    } catch (e) { rethrow(e) }
  }

  async _callAsync (op, args = {}) {
    try {
      return decode(await this._native.callAsync(op, JSON.stringify(args)))
    } catch (e) { rethrow(e) }
  }

  now () { return new Date(this._call('now')) }
  setTime (at) { this._call('set_time', { at: time(at, 'at') }) }
  policies () { return this._call('policies') }
  setPolicy (policy) { this._call('set_policy', { policy }) }
  createAccount (id, currency, c) {
    return this._call('create_account', { account: { id, currency, contacts: contacts(c) } })
  }

  account (account) { return this._call('account', { account }) }
  setContacts (account, c) { return this._call('set_contacts', { account, contacts: contacts(c) }) }
  setOutstanding (account, value) {
    return this._call('set_outstanding', { account, amount: amount(value, 'amount') })
  }

  fund (account, value, idempotencyKey) {
    return this._call('fund', { account, amount: amount(value, 'amount'), idempotency_key: idempotencyKey })
  }

  balance (account) { return this._call('balance', { account }) }
  statement (account, after = 0, limit = 100) { return this._call('statement', { account, after, limit }) }
  addPendingDeletion (domain, dropAt) {
    return this._call('add_pending_deletion', { domain, drop_at: time(dropAt, 'dropAt') })
  }

  pendingDeletion (domain) { return this._call('pending_deletion', { domain }) }
  withdrawPendingDeletion (domain) { return this._call('withdraw_pending_deletion', { domain }) }
  async importPendingList (data, { withdrawMissing = true } = {}) {
    try {
      const options = JSON.stringify({ withdraw_missing: withdrawMissing })
      return decode(await this._native.importPendingList(Buffer.from(data), options))
    } catch (e) { rethrow(e) }
  }

  searchPending (query = {}) { return this._call('search_pending', { query }) }
  subscribeAlerts (account, keywords, options = {}) {
    return this._call('subscribe_alerts', { request: { account, keywords, ...options } })
  }

  unsubscribeAlerts (account, id) { this._call('unsubscribe_alerts', { account, id }) }
  alertSubscriptions (account) { return this._call('alert_subscriptions', { account }) }
  // The backorder calls go straight to native ones that answer rows, without JSON.
  placeBackorder (account, domain, { lite = false, contacts: c, idempotencyKey = null } = {}) {
    text(account, 'account')
    text(domain, 'domain')
    flag(lite, 'lite')
    optionalText(idempotencyKey, 'idempotencyKey')
    const handles = contacts(c)
    try {
      return this._native.placeBackorder(backorderFrom, account, domain, lite, handles, idempotencyKey)
    } catch (e) { rethrow(e) }
  }

  backorder (account, id) {
    text(account, 'account')
    checkId(id)
    try { return this._native.backorder(backorderFrom, account, id) } catch (e) { rethrow(e) }
  }

  backorders (account) {
    text(account, 'account')
    try { return this._native.backorders(backorderFrom, account) } catch (e) { rethrow(e) }
  }

  modifyBackorder (account, id, c) {
    text(account, 'account')
    checkId(id)
    const handles = contacts(c)
    try { return this._native.modifyBackorder(backorderFrom, account, id, handles) } catch (e) { rethrow(e) }
  }

  cancelBackorder (account, id, idempotencyKey = null) {
    text(account, 'account')
    checkId(id)
    optionalText(idempotencyKey, 'idempotencyKey')
    try { return this._native.cancelBackorder(backorderFrom, account, id, idempotencyKey) } catch (e) { rethrow(e) }
  }

  pay (account, id, idempotencyKey = null) {
    text(account, 'account')
    checkId(id)
    optionalText(idempotencyKey, 'idempotencyKey')
    try { return this._native.pay(backorderFrom, account, id, idempotencyKey) } catch (e) { rethrow(e) }
  }

  bid (account, id, max, idempotencyKey = null) {
    return this._call('bid', { account, id, max: amount(max, 'max'), idempotency_key: idempotencyKey })
  }

  auction (account, id) { return this._call('auction', { account, id }) }
  /** Does all time-driven work due now, off the JavaScript thread. */
  tick () { return this._callAsync('tick') }
  nextWake () {
    const at = this._call('next_wake')
    return at === null ? null : new Date(at)
  }

  events (after = 0, limit = 1000) { return this._call('events', { after, limit }) }
  ackEvents (upto) { this._call('ack_events', { upto }) }
  audit () { return this._call('audit') }
  statusCounts () { return this._call('status_counts') }
}

module.exports = { Engine, BackorderError, CODES }
