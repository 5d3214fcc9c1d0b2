import { InvalidArgumentError } from '../errors.js';
import type { StoredEvent } from './backend.js';
import type { RecordedEvent, Upcaster } from './types.js';

/**
 * Upcasters by event type: each type's current schema version is one past its highest upcaster
 * (1 when it has none); events older than that are upgraded one version at a time on read.
 *
 * @example
 * ```ts
 * const registry = new UpcasterRegistry([{ type: 'ItemAdded', fromSchemaVersion: 1, upcast: (d) => d }]);
 * registry.currentVersion('ItemAdded'); // 2
 * ```
 */
export class UpcasterRegistry {
  readonly #chains = new Map<string, Map<number, Upcaster>>();

  constructor(upcasters: readonly Upcaster[] = []) {
    if (!Array.isArray(upcasters)) {
      throw new InvalidArgumentError('upcasters', 'is not an array', 'Pass upcasters as an array of { type, fromSchemaVersion, upcast }.');
    }
    for (const u of upcasters) this.#add(u);
    for (const [type, chain] of this.#chains) {
      for (let v = 1; v <= chain.size; v++) {
        if (!chain.has(v)) {
          throw new InvalidArgumentError('upcasters', `type "${type}" has no upcaster from schema version ${v}`, 'Register one upcaster for every version from 1 up to the current one, with no gaps.');
        }
      }
    }
  }

  #add(u: Upcaster): void {
    if (typeof u?.type !== 'string' || !Number.isSafeInteger(u.fromSchemaVersion) || u.fromSchemaVersion < 1 || typeof u.upcast !== 'function') {
      throw new InvalidArgumentError('upcasters', 'an entry is not { type: string, fromSchemaVersion: integer ≥ 1, upcast: function }', 'Check each upcaster object.');
    }
    const chain = this.#chains.get(u.type) ?? new Map<number, Upcaster>();
    if (chain.has(u.fromSchemaVersion)) {
      throw new InvalidArgumentError('upcasters', `two upcasters for "${u.type}" from version ${u.fromSchemaVersion}`, 'Keep one upcaster per type and version.');
    }
    chain.set(u.fromSchemaVersion, u);
    this.#chains.set(u.type, chain);
  }

  /** The schema version new events of `type` are stored with. */
  currentVersion(type: string): number {
    return (this.#chains.get(type)?.size ?? 0) + 1;
  }

  /** {@link toRecorded} of every row; with no upcasters registered the rows already are the public shape. */
  toRecordedAll(rows: StoredEvent[]): RecordedEvent[] {
    return this.#chains.size === 0 ? rows : rows.map((r) => this.toRecorded(r));
  }

  /** Turns a stored row into the public event shape, upgrading its data to the current schema version. */
  toRecorded(e: StoredEvent): RecordedEvent {
    const chain = this.#chains.get(e.type);
    // A stored event has the public shape (same keys, same order); only an upcast needs a new object.
    if (chain === undefined || !chain.has(e.schemaVersion)) return e;
    let data = e.data;
    let version = e.schemaVersion;
    for (let u = chain.get(version); u !== undefined; u = chain.get(version)) {
      data = u.upcast(data, e.metadata);
      version++;
    }
    const recorded: RecordedEvent = {
      id: e.id,
      streamId: e.streamId,
      streamVersion: e.streamVersion,
      globalPosition: e.globalPosition,
      type: e.type,
      data,
      recordedAt: e.recordedAt,
      schemaVersion: version,
    };
    if (e.metadata !== undefined) recorded.metadata = e.metadata;
    return recorded;
  }
}
