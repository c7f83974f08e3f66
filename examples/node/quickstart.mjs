// libbackorder from Node in one page: a customer backorders a name about to be deleted, the
// deposit is secured 72 hours before the drop, the name is caught and the deposit captured.
//
//   node examples/node/quickstart.mjs     (scripts/node-tests builds the package and runs this)
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine } = require('../../bindings/node') // in an application: require('backorder')

const start = new Date('2026-03-02T00:00:00Z')
const drop = new Date(start.getTime() + 5 * 24 * 3600 * 1000)

// A simulated engine: in memory, its clock moved by hand, the registry catching the name.
// (Engine.open('sqlite:backorders.db') opens a durable one on the system clock.)
const engine = Engine.openSimulated({ start, outcomes: { 'example.com': 'CAUGHT' } })
engine.createAccount('reseller-1', 'USD', { owner: 'RS-1', admin: 'RS-1', tech: 'RS-1', billing: 'RS-1' })
engine.fund('reseller-1', '100.00', 'top-up-1') // amounts are decimal strings; idempotent by key
engine.addPendingDeletion('example.com', drop)

const placed = engine.placeBackorder('reseller-1', 'example.com')
console.log('placed:', placed.id, placed.status, placed.price.amount, placed.price.currency)

engine.setTime(new Date(drop.getTime() - 72 * 3600 * 1000))
await engine.tick() // the deposit window: 49 USD reserved, ACTIVE
engine.setTime(drop)
console.log('at the drop:', await engine.tick())

const caught = engine.backorder('reseller-1', placed.id)
console.log('backorder:', caught.status, 'registered until', caught.registered_until.toISOString())
console.log('balance:', engine.balance('reseller-1'))

try {
  engine.fund('reseller-1', '-5', 'bad-1')
} catch (refused) {
  console.log('funding -5:', refused.code, '-', refused.message) // nothing changed
}
if (engine.audit().problems.length !== 0) throw new Error('audit found problems')
