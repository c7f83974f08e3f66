'use strict'
// The bad-input catalogue (tests/bad_input/engine_calls.json) through the Node package: every case
// refused with a BackorderError of its code, and nothing a host can read changed.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Engine, BackorderError } = require('..')

const catalogue = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'tests', 'bad_input', 'engine_calls.json'), 'utf8'))

function reads (engine) {
  return catalogue.snapshot.map(([op, args]) => {
    try {
      return engine._native.call(op, JSON.stringify(args))
    } catch (e) {
      return `${op}: ${e.message}`
    }
  })
}

test('every catalogue case is refused with its code and changes nothing', () => {
  const engine = Engine.openSimulated({ start: new Date(catalogue.start) })
  for (const [op, args] of catalogue.setup) engine._call(op, args)
  const failures = []
  for (const c of catalogue.cases) {
    const before = reads(engine)
    try {
      engine._call(c.op, c.args)
      failures.push(`${c.id}: accepted`)
    } catch (e) {
      if (!(e instanceof BackorderError)) failures.push(`${c.id}: threw ${e}`)
      else if (e.code !== c.code) failures.push(`${c.id}: ${e.code} (${e.message}), catalogue says ${c.code}`)
    }
    assert.deepEqual(reads(engine), before, `${c.id}: the refused call changed state`)
  }
  assert.ok(catalogue.cases.length >= 50)
  assert.deepEqual(failures, [])
})
