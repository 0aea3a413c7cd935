import { BudgetExhaustedException } from './budget-exhausted.exception.js';
import type { BudgetRefusal, BudgetWindowRow, BudgetWindowSnapshot, WindowRefusal } from './budget-store.interface.js';
import { snapshotOf } from './budget-window-status.js';

/**
 * The 429 for a refused reservation, naming the window that refused it with the figures the
 * atomic check saw (so `spent + reserved + requested > limit` always holds in it). When several
 * windows refused, the one that resets last: no retry succeeds before it does. On a tie, the
 * narrower scope (a tenant's window over the global one), which is the caller's own budget.
 */
export function exhaustionOf(refusal: BudgetRefusal, windows: readonly BudgetWindowRow[], requestedMicro: number, now: number, afterAttempts?: number): BudgetExhaustedException {
  let chosen: { window: BudgetWindowRow; refused: WindowRefusal; position: number } | undefined;
  for (const refused of refusal.refused) {
    const position = windows.findIndex((window) => window.id === refused.windowId);
    if (position < 0) continue;
    const window = windows[position];
    if (!chosen || window.endsAt > chosen.window.endsAt || (window.endsAt === chosen.window.endsAt && position > chosen.position)) chosen = { window, refused, position };
  }
  // A refusal naming none of the call's windows cannot happen with this library's ledger; the first window stands in.
  const window = chosen?.window ?? windows[0];
  const figures = chosen?.refused ?? { spentMicro: 0, reservedMicro: 0, limitMicro: window.limitMicro };
  return new BudgetExhaustedException(
    { scope: window.scope, kind: window.kind, endsAt: window.endsAt, limitMicro: figures.limitMicro, spentMicro: figures.spentMicro, reservedMicro: figures.reservedMicro },
    requestedMicro,
    now,
    afterAttempts,
  );
}

/**
 * For a store that says only "refused": the windows as they stand now, checked against this
 * replica's limits. Under concurrency they may no longer show the refusal.
 */
export function refusalFromSnapshots(snapshots: readonly BudgetWindowSnapshot[], windows: readonly BudgetWindowRow[], amountMicro: number): BudgetRefusal {
  const limits = new Map(windows.map((window) => [window.id, window.limitMicro]));
  const figures = snapshots.map((w) => ({ windowId: w.id, spentMicro: w.spentMicro, reservedMicro: w.reservedMicro, limitMicro: limits.get(w.id) ?? w.limitMicro }));
  const refused = figures.filter((w) => w.spentMicro + w.reservedMicro + amountMicro > w.limitMicro);
  return { refused: refused.length > 0 ? refused : figures.slice(0, 1) };
}

/**
 * Why a call is refused before its body runs, without holding anything: a window where what is
 * left after spending cannot hold the call's estimate, or where nothing is left once the money
 * held by calls in flight is counted. Undefined when every window can take the call; its exact
 * worst case is reserved, atomically, before each of its requests.
 */
export function admissionRefusal(snapshots: readonly BudgetWindowSnapshot[], windows: readonly BudgetWindowRow[], estimateMicro: number): BudgetRefusal | undefined {
  let refused: WindowRefusal[] | undefined;
  for (const window of windows) {
    const stored = snapshotOf(snapshots, window.id);
    const spentMicro = stored?.spentMicro ?? 0;
    const reservedMicro = stored?.reservedMicro ?? 0;
    const limitMicro = window.limitMicro;
    if (spentMicro + estimateMicro > limitMicro || spentMicro + reservedMicro >= limitMicro) (refused ??= []).push({ windowId: window.id, spentMicro, reservedMicro, limitMicro });
  }
  return refused && { refused };
}
