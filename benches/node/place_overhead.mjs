// Placing backorders through the Node package: the same placements as examples/place_overhead
// (Rust) and benches/c/place_overhead.c, so that the difference per call is the binding's own
// cost (argument checks and conversion, the whole Backorder object with its Dates made from the
// native values). scripts/bench-bindings runs it beside the others.
//
// ROUNDS rounds, each on a fresh in-memory engine with ACCOUNTS funded customers, placing CALLS
// backorders (customer i % ACCOUNTS, name i); prints the median nanoseconds per placement.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine } = require('../../bindings/node')
const ROUNDS = 7
const ACCOUNTS = 1000
const CALLS = 100000

function roundNsPerCall () {
  const e = Engine.openSimulated({ start: new Date('2026-03-02T00:00:00Z') })
  const handles = { owner: 'H-1', admin: 'H-1', tech: 'H-1', billing: 'H-1' }
  for (let i = 0; i < ACCOUNTS; i++) {
    const id = `c${String(i).padStart(4, '0')}`
    e.createAccount(id, 'USD', handles)
    e.fund(id, '1000', 'top-up')
  }
  const start = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) {
    e.placeBackorder(`c${String(i % ACCOUNTS).padStart(4, '0')}`, `name${i}.com`)
  }
  return Number(process.hrtime.bigint() - start) / CALLS
}

const rounds = Array.from({ length: ROUNDS }, roundNsPerCall).sort((a, b) => a - b)
console.log(`Node: place_backorder ${rounds[ROUNDS >> 1].toFixed(0)} ns per call ` +
  `(median of ${ROUNDS} rounds of ${CALLS}; ${rounds[0].toFixed(0)}-${rounds[ROUNDS - 1].toFixed(0)})`)
