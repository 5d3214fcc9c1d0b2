import { InvalidArgumentError } from '../errors.js';
import type { AppendHook } from '../eventstore/types.js';
import { handlesEvent, liveTables, type Projection, requireProjection } from './projection.js';
import { ensureRegistryIn, readRow, registerProjection } from './registry.js';

/**
 * Runs projections inline: inside each append's transaction, so the read model commits with the events
 * (always up to date, no checkpoint to wait for) and a projection that throws rolls the append back.
 * Pass the hooks when opening the store. The tables live in the store's database.
 *
 * An inline projection cannot change version in place (no projector replays it): give the new version a
 * new name, or run it as an async projection, which rebuilds itself.
 *
 * @example
 * ```ts
 * const store = await openSqliteEventStore({ path, appendHooks: inlineProjections([cartTotals]) });
 * ```
 */
export function inlineProjections(projections: Projection[]): AppendHook[] {
  if (!Array.isArray(projections)) {
    throw new InvalidArgumentError('projections', 'is not an array', 'Pass inlineProjections([projection({ … })]).');
  }
  const valid = projections.map((p, i) => requireProjection(p, `projections[${i}]`));
  if (new Set(valid.map((p) => p.name)).size !== valid.length) {
    throw new InvalidArgumentError('projections', 'contains a name twice', 'Give every projection a unique name.');
  }
  return valid.map((p) => {
    const tables = liveTables(p);
    return {
      name: `projection:${p.name}`,
      async setup(tx) {
        await ensureRegistryIn(tx);
        await registerProjection(tx, p, 'inline', Date.now());
        const row = await readRow(tx, p.name);
        if (row?.kind !== 'inline') {
          throw new InvalidArgumentError('projections', `"${p.name}" is registered here as an ${row?.kind} projection`, 'Use another name for the inline projection.');
        }
        if (row.version !== p.version) {
          throw new InvalidArgumentError('projections', `inline projection "${p.name}" is stored at version ${row.version}, not ${p.version}`, 'Give the new version a new name (with new tables), or run it as an async projection, which rebuilds itself.');
        }
      },
      async apply(events, tx) {
        for (const e of events) if (handlesEvent(p, e.type)) await p.apply(e, tx, tables);
      },
    };
  });
}
