'use strict'
// The seed documents' flows through the Node package, with the statuses and exact amounts of
// the Rust scenario (runtime/tests/seed_flows.rs), the C one and the Python one: HEXONET's five
// steps with a private auction (.com, fee 49 USD) and Alibaba's pre-release (.info, 39 USD).
const test = require('node:test')
const assert = require('node:assert/strict')
const { Engine } = require('..')

const START = new Date('2026-03-02T00:00:00Z')
const HOUR = 3600 * 1000
const later = (ms) => new Date(START.getTime() + ms)

/** The same amount? ("147" and "147.00" are.) */
const same = (a, b) => Number.isFinite(Number(a)) && normalise(a) === normalise(b)
const normalise = (s) => String(s).includes('.') ? String(s).replace(/0+$/, '').replace(/\.$/, '') : String(s)

function balance (e, account) {
  const b = e.balance(account)
  return [b.balance, b.reserved, b.available].map(normalise)
}

async function at (e, t) {
  e.setTime(t)
  const report = await e.tick()
  assert.deepEqual(report.errors, [])
}

const full = (h) => ({ owner: h, admin: h, tech: h, billing: h })
const eventsOf = (e, id, type) => e.events(0, 100000).filter((ev) => ev.backorder === id && ev.kind.type === type).length
const refused = (code) => (err) => err.code === code

/**
 * The backorder calls answer objects built from native values (src/records.rs, backorderFrom in
 * index.js); they must be exactly what the engine's JSON for the same backorders decodes to.
 */
function sameAsJson (e, accounts) {
  let seen = 0
  for (const account of accounts) {
    const native = e.backorders(account)
    assert.deepStrictEqual(native, e._call('backorders', { account }))
    for (const b of native) {
      assert.deepStrictEqual(e.backorder(account, b.id), e._call('backorder', { account, id: b.id }))
    }
    seen += native.length
  }
  assert.ok(seen > 0)
}

test('HEXONET five steps with exact amounts', async () => {
  const drop = later(5 * 24 * HOUR + 19 * HOUR)
  const e = Engine.openSimulated({
    start: START, seed: 1, outcomes: { 'solo.com': 'CAUGHT', 'contest.com': 'CAUGHT', 'miss.com': 'TAKEN' },
  })
  for (const d of ['solo.com', 'miss.com', 'contest.com', 'later.com', 'poor.com']) e.addPendingDeletion(d, drop)
  e.createAccount('alice', 'USD', full('ALICE-1'))
  e.createAccount('bob', 'USD')
  e.createAccount('carol', 'USD', full('CAROL-1'))
  e.createAccount('dave', 'USD', full('DAVE-1'))
  e.createAccount('erin', 'USD', full('ERIN-1'))

  // Step 1: every account starts at zero; placing is free.
  assert.deepEqual(balance(e, 'alice'), ['0', '0', '0'])
  const solo = e.placeBackorder('alice', 'solo.com').id
  const miss = e.placeBackorder('alice', 'miss.com').id
  const aContest = e.placeBackorder('alice', 'contest.com').id
  const cContest = e.placeBackorder('carol', 'contest.com').id
  const dContest = e.placeBackorder('dave', 'contest.com').id
  assert.equal(e.backorder('alice', solo).status, 'REQUESTED')
  const laterId = e.placeBackorder('bob', 'later.com').id
  assert.equal(e.backorder('bob', laterId).status, 'INCOMPLETE')
  e.setContacts('bob', full('BOB-1'))
  assert.equal(e.backorder('bob', laterId).status, 'REQUESTED')
  const poor = e.placeBackorder('erin', 'poor.com').id
  e.fund('alice', '500', 'alice-1')
  e.fund('carol', '300', 'carol-1')
  e.fund('dave', '100', 'dave-1')
  e.fund('bob', '20', 'bob-1')
  assert.equal(e.cancelBackorder('bob', laterId).status, 'CANCELLED')

  // Step 2: 72 h before the deletion the deposits are reserved.
  await at(e, new Date(drop.getTime() - 72 * HOUR))
  for (const id of [solo, miss, aContest]) assert.equal(e.backorder('alice', id).status, 'ACTIVE')
  assert.deepEqual(balance(e, 'alice'), ['500', '147', '353'])
  assert.deepEqual(balance(e, 'carol'), ['300', '49', '251'])
  assert.equal(e.backorder('erin', poor).status, 'INACTIVE')
  await at(e, new Date(drop.getTime() - 60 * HOUR))
  assert.equal(eventsOf(e, poor, 'low_balance'), 1)
  await at(e, new Date(drop.getTime() - 24 * HOUR))
  assert.equal(e.backorder('erin', poor).status, 'EXPIRED')
  assert.deepEqual(balance(e, 'erin'), ['0', '0', '0'])
  e.setTime(new Date(drop.getTime() - 2 * HOUR))
  assert.throws(() => e.cancelBackorder('alice', miss), refused('CANCELLATION_CLOSED'))

  // Steps 3 and 4: processed at the deletion time.
  await at(e, drop)
  const missed = e.backorder('alice', miss)
  assert.equal(missed.status, 'FAILED')
  assert.deepEqual(missed.history.map((h) => h.to), ['REQUESTED', 'ACTIVE', 'PROCESSING', 'FAILED'])
  assert.equal(eventsOf(e, miss, 'refunded'), 1)
  const soloB = e.backorder('alice', solo)
  assert.equal(soloB.status, 'SUCCESSFUL')
  assert.ok(same(soloB.paid, '49'))
  assert.deepEqual(balance(e, 'alice'), ['451', '49', '402'])

  // Step 5: a private auction among exactly the three.
  for (const [acct, id] of [['alice', aContest], ['carol', cContest], ['dave', dContest]]) {
    assert.equal(e.backorder(acct, id).status, 'AUCTION-PENDING')
    assert.equal(eventsOf(e, id, 'auction_invitation'), 1)
  }
  const view = e.auction('carol', cContest)
  assert.equal(view.participants, 3)
  assert.ok(same(view.opening_price, '49'))
  assert.ok(view.starts_at instanceof Date)
  assert.throws(() => e.bid('carol', cContest, '120'), refused('AUCTION_NOT_OPEN'))
  await at(e, view.starts_at)
  e.bid('carol', cContest, '120')
  let v = e.bid('dave', dContest, '100')
  assert.equal(v.leading, false)
  assert.ok(same(v.price, '105'))
  const ends = v.ends_at
  e.setTime(new Date(ends.getTime() - 5 * 60000))
  assert.throws(() => e.bid('dave', dContest, '104'), refused('BID_TOO_LOW'))
  v = e.bid('dave', dContest, '110')
  assert.equal(v.ends_at.getTime(), ends.getTime() + 5 * 60000)
  assert.ok(same(v.price, '115'))

  await at(e, v.ends_at)
  const won = e.backorder('carol', cContest)
  assert.equal(won.status, 'AUCTION-WON')
  assert.ok(same(won.amount_due, '115'))
  for (const [acct, id] of [['alice', aContest], ['dave', dContest]]) assert.equal(e.backorder(acct, id).status, 'AUCTION-LOST')
  assert.deepEqual(balance(e, 'alice'), ['451', '0', '451'])
  assert.deepEqual(balance(e, 'dave'), ['100', '0', '100'])
  const paid = e.pay('carol', cContest, 'pay-1')
  assert.ok(same(paid.paid, '115'))
  assert.equal(paid.amount_due, null)
  assert.equal(paid.auth_code.length, 16)
  assert.deepEqual(e.pay('carol', cContest, 'pay-1'), paid)
  assert.deepEqual(balance(e, 'carol'), ['185', '0', '185'])
  assert.deepEqual(e.statement('carol').map((l) => l.kind), ['FUND', 'RESERVE', 'CHARGE', 'CAPTURE'])
  assert.deepEqual(e.audit().problems, [])
  sameAsJson(e, ['alice', 'bob', 'carol', 'dave', 'erin'])
})

test('Alibaba pre-release with exact amounts', async () => {
  const drop = later(3 * 24 * HOUR)
  const e = Engine.openSimulated({
    start: START,
    seed: 1,
    outcomes: { 'prerelease.info': 'CAUGHT', 'gone.info': 'TAKEN', 'owed.info': 'TAKEN', 'turned.info': 'PREMIUM' },
  })
  for (const d of ['prerelease.info', 'gone.info', 'owed.info', 'turned.info', 'lonely.info']) e.addPendingDeletion(d, drop)
  for (const u of ['u1', 'u2', 'u3']) {
    e.createAccount(u, 'USD', full('HANDLE-1'))
    e.fund(u, '100', `${u}-fund`)
  }
  const first = e.placeBackorder('u1', 'prerelease.info').id
  const second = e.placeBackorder('u2', 'prerelease.info').id
  assert.equal(e.backorder('u1', first).status, 'PENDING-PAYMENT')
  assert.equal(e.backorder('u2', second).status, 'PENDING-PAYMENT')
  assert.equal(e.pay('u1', first).status, 'BACKORDERED')
  assert.deepEqual(balance(e, 'u1'), ['100', '39', '61'])
  assert.equal(e.backorder('u2', second).status, 'CANCELLED')
  assert.throws(() => e.placeBackorder('u3', 'prerelease.info'), refused('NAME_ALREADY_BACKORDERED'))
  assert.throws(() => e.cancelBackorder('u1', first), refused('CANCELLATION_NOT_ALLOWED'))
  const gone = e.placeBackorder('u2', 'gone.info').id
  e.pay('u2', gone)
  const owed = e.placeBackorder('u3', 'owed.info').id
  e.pay('u3', owed)
  e.setOutstanding('u3', '10')
  const turned = e.placeBackorder('u3', 'turned.info').id
  e.pay('u3', turned)
  assert.throws(() => e.placeBackorder('u2', 'turned.info'), refused('NAME_ALREADY_BACKORDERED'))
  const unpaid = e.placeBackorder('u2', 'lonely.info').id

  await at(e, new Date(drop.getTime() - 3 * HOUR))
  assert.equal(e.backorder('u2', unpaid).status, 'EXPIRED')
  await at(e, drop)
  const won = e.backorder('u1', first)
  assert.equal(won.status, 'SUCCESSFUL')
  assert.equal(won.registered_until.toISOString(), '2027-03-05T00:00:00.000Z')
  assert.deepEqual(balance(e, 'u1'), ['61', '0', '61'])
  assert.equal(e.backorder('u2', gone).status, 'FAILED')
  assert.equal(eventsOf(e, gone, 'refunded'), 1)
  assert.deepEqual(balance(e, 'u2'), ['61', '0', '61'])
  assert.ok(e.statement('u2').some((l) => l.kind === 'PAYOUT' && same(l.amount, '39')))
  assert.equal(eventsOf(e, owed, 'refunded'), 1)
  assert.equal(e.backorder('u3', turned).status, 'FAILED')
  assert.deepEqual(balance(e, 'u3'), ['100', '0', '100'])
  assert.deepEqual(e.audit().problems, [])
  sameAsJson(e, ['u1', 'u2', 'u3'])
})
