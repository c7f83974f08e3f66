// Type-checked by `npm run typecheck` (tsc --strict): the declarations describe a usable API.
import { Engine, BackorderError, Backorder, Amount } from '../index'

async function example (): Promise<Amount> {
  const e: Engine = Engine.openSimulated({ start: new Date('2026-03-02T00:00:00Z'), outcomes: { 'a.com': 'CAUGHT' } })
  e.createAccount('ann', 'USD', { owner: 'H-1' })
  e.fund('ann', '100.00', 'k1')
  const b: Backorder = e.placeBackorder('ann', 'a.com')
  const report = await e.tick()
  const when: Date | null = report.now
  try {
    e.balance('nobody')
  } catch (err) {
    if (err instanceof BackorderError && err.code === 'ACCOUNT_NOT_FOUND') return String(when)
  }
  return b.price.amount
}

void example
