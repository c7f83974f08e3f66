'use strict'
// The Node package: types at the boundary, Errors with codes, state unchanged by a refused
// call, Promises for long work, the catalog.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Engine, BackorderError, CODES } = require('..')

const START = new Date('2026-03-02T00:00:00Z')

function engineWith () {
  const e = Engine.openSimulated({ start: START })
  e.createAccount('ann', 'USD', { owner: 'H-1', admin: 'H-1', tech: 'H-1', billing: 'H-1' })
  e.fund('ann', '100', 'f1')
  return e
}

test('amounts are decimal strings and times are Dates', () => {
  const e = engineWith()
  const t = e.fund('ann', '0.10', 'f2')
  assert.equal(t.amount, '0.10')
  assert.ok(t.at instanceof Date)
  assert.equal(t.at.getTime(), START.getTime())
  const b = e.placeBackorder('ann', 'example.com')
  assert.equal(b.price.amount, '49')
  assert.ok(b.created_at instanceof Date)
  assert.equal(e.now().getTime(), START.getTime())
})

test('numbers for amounts and bad dates are refused', () => {
  const e = engineWith()
  assert.throws(() => e.fund('ann', 1.5, 'f2'), (err) => err instanceof BackorderError && err.code === 'INVALID_AMOUNT')
  assert.throws(() => e.addPendingDeletion('a.com', 'tomorrow'), (err) => err.code === 'INVALID_ARGUMENT')
  assert.throws(() => Engine.openSimulated({ start: new Date('nonsense') }), (err) => err.code === 'INVALID_ARGUMENT')
})

test('refused calls throw Errors with the code and change nothing', () => {
  const e = engineWith()
  const cases = [
    [() => Engine.open('ftp://nowhere'), 'INVALID_ARGUMENT'],
    [() => e.createAccount('ann', 'USD'), 'ACCOUNT_EXISTS'],
    [() => e.createAccount('bob', 'US'), 'INVALID_ARGUMENT'],
    [() => e.balance('nobody'), 'ACCOUNT_NOT_FOUND'],
    [() => e.fund('ann', '-5', 'f9'), 'INVALID_AMOUNT'],
    [() => e.fund('ann', '7', 'f1'), 'IDEMPOTENCY_CONFLICT'],
    [() => e.placeBackorder('ann', '-bad-.com'), 'INVALID_DOMAIN_NAME'],
    [() => e.placeBackorder('ann', 'name.notazone'), 'UNKNOWN_TLD'],
    [() => e.backorder('ann', 42), 'BACKORDER_NOT_FOUND'],
    [() => e.setTime(new Date(START.getTime() - 1000)), 'INVALID_ARGUMENT'],
    [() => Engine.open().setTime(START), 'INVALID_ARGUMENT'],
    // Wrong JavaScript types reach the backorder calls as the engine's own refusal.
    [() => e.placeBackorder(7, 'x.com'), 'INVALID_ARGUMENT'],
    [() => e.placeBackorder('ann', 'x.com', { lite: 'yes' }), 'INVALID_ARGUMENT'],
    [() => e.placeBackorder('ann', 'x.com', { contacts: 'H-1' }), 'INVALID_ARGUMENT'],
    [() => e.placeBackorder('ann', 'x.com', { contacts: { owner: 5 } }), 'INVALID_ARGUMENT'],
    [() => e.placeBackorder('ann', 'x.com', { idempotencyKey: 5 }), 'INVALID_ARGUMENT'],
    [() => e.backorder('ann', -1), 'INVALID_ARGUMENT'],
    [() => e.backorder('ann', 1.5), 'INVALID_ARGUMENT'],
    [() => e.pay('ann', '1'), 'INVALID_ARGUMENT'],
    [() => e.cancelBackorder('ann', 2 ** 53), 'INVALID_ARGUMENT'],
    [() => e.modifyBackorder('ann', 1, null), 'BACKORDER_NOT_FOUND'],
  ]
  const before = JSON.stringify([e.balance('ann'), e.backorders('ann'), e.audit().transfers])
  for (const [call, code] of cases) {
    assert.throws(call, (err) => err instanceof Error && err.code === code && err.number === CODES[code] && err.message.length > 0, code)
  }
  assert.equal(JSON.stringify([e.balance('ann'), e.backorders('ann'), e.audit().transfers]), before)
  // The engine's own table: every code, with its number.
  assert.deepEqual(Object.entries(CODES), require('../backorder.node').errorCodes())
})

test('tick and imports answer Promises; the catalog', async () => {
  const e = engineWith()
  const sub = e.subscribeAlerts('ann', ['shop'])
  const pending = e.importPendingList(Buffer.from('myshop.com;2026-03-09 19:00:00\nother.net;2026-03-10 19:00:00\n'), { withdrawMissing: false })
  assert.ok(pending instanceof Promise)
  const report = await pending
  assert.equal(report.added, 2)
  assert.equal(report.alerts, 1)
  assert.equal(e.searchPending({ keywords: ['shop'] }).total, 1)
  assert.deepEqual(e.alertSubscriptions('ann').map((s) => s.id), [sub.id])
  assert.equal(e.pendingDeletion('myshop.com').drop_at.toISOString(), '2026-03-09T19:00:00.000Z')
  e.unsubscribeAlerts('ann', sub.id)
  assert.equal(e.withdrawPendingDeletion('myshop.com'), 0)
  const tick = e.tick()
  assert.ok(tick instanceof Promise)
  assert.deepEqual((await tick).errors, [])
  // A refused import rejects its Promise with the code, and lists nothing.
  await assert.rejects(e.importPendingList(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3])), (err) => err.code === 'INVALID_ARGUMENT')
  assert.equal(e.searchPending({}).total, 1) // other.net; myshop.com was withdrawn above
  assert.ok(e.events().some((ev) => ev.kind.type === 'alert'))
})
