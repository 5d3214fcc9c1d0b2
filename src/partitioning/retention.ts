import { InvalidArgumentError, RetentionRefusedError } from '../errors.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { type ArchiveTarget, requireArchiveTarget } from './archive.js';

/**
 * The retention policy shared by PostgreSQL table partitions and SQLite segment files.
 * @module
 */

/**
 * What to retire and what to do with it. `olderThanMs`: every time partition whose whole range ended at
 * least that long ago. `partitions`: these by name (list partitions, or a range one chosen by hand).
 * `action`: `'drop'` removes, `'archive'` writes the rows to `archive` and then removes, `'detach'` (tables
 * only) keeps the detached table as a plain table.
 * @example
 * ```ts
 * const policy: RetentionPolicy = { olderThanMs: 90 * 86_400_000, action: 'archive', archive: { format: 'jsonl', path: './old.jsonl' } };
 * ```
 */
export interface RetentionPolicy {
  olderThanMs?: number;
  partitions?: string[];
  action: 'drop' | 'archive' | 'detach';
  archive?: ArchiveTarget;
  /** Called after each retired partition or segment. */
  onProgress?(p: RetentionProgress): void;
}

/** Progress of a retention run. */
export interface RetentionProgress {
  partition: string;
  done: number;
  total: number;
  rows: number;
}

/** What a retention run did to one partition or segment. */
export interface RetiredPartition {
  partition: string;
  from: Date | null;
  to: Date | null;
  rows: number;
  action: 'dropped' | 'archived' | 'detached';
}

/** A validated policy. */
export type CheckedPolicy = { olderThanMs: number | null; names: string[] | null; action: RetentionPolicy['action']; archive: ArchiveTarget | null; onProgress: RetentionPolicy['onProgress'] };

export function requirePolicy(value: unknown, allowDetach: boolean): CheckedPolicy {
  const o = requireOptionsObject(value, 'policy') as Partial<RetentionPolicy>;
  if ((o.olderThanMs === undefined) === (o.partitions === undefined)) {
    throw new InvalidArgumentError('policy', 'needs exactly one of olderThanMs and partitions', 'Pass { olderThanMs: 30 * 86_400_000, action } or { partitions: [name], action }.');
  }
  const actions = allowDetach ? ['drop', 'archive', 'detach'] : ['drop', 'archive'];
  if (!actions.includes(o.action as string)) {
    throw new InvalidArgumentError('policy.action', `${JSON.stringify(o.action)} is not one of ${actions.join(', ')}`, `Pass action: '${actions.join("' or '")}'.`);
  }
  if ((o.action === 'archive') !== (o.archive !== undefined)) {
    throw new InvalidArgumentError('policy.archive', o.action === 'archive' ? 'is missing' : 'is only for action archive', "Pass action: 'archive' with archive: { format: 'jsonl' | 'sqlite', path }.");
  }
  if (o.partitions !== undefined && (!Array.isArray(o.partitions) || o.partitions.length === 0)) {
    throw new InvalidArgumentError('policy.partitions', 'is not a non-empty array of names', "Pass partitions: ['metrics_p20261001'].");
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new InvalidArgumentError('policy.onProgress', 'is not a function', 'Pass onProgress: (p) => … or leave it out.');
  }
  return {
    olderThanMs: o.olderThanMs === undefined ? null : requirePositiveInt(o.olderThanMs, 'policy.olderThanMs'),
    names: o.partitions?.map((n, i) => requireBoundedString(n, `policy.partitions[${i}]`, 63)) ?? null,
    action: o.action!,
    archive: o.archive === undefined ? null : requireArchiveTarget(o.archive, 'policy.archive'),
    onProgress: o.onProgress,
  };
}

/** A partition or segment a policy may pick: named, with a time range or none. */
export interface Candidate {
  name: string;
  from: Date | null;
  to: Date | null;
}

/**
 * The candidates a policy retires, oldest first; refuses (before anything changes) a selection that holds
 * the current time, and a name that does not exist.
 */
export function selectExpired<C extends Candidate>(table: string, all: C[], policy: CheckedPolicy, now: number): C[] {
  let chosen: C[];
  if (policy.names !== null) {
    const byName = new Map(all.map((c) => [c.name, c]));
    chosen = policy.names.map((n) => {
      const c = byName.get(n);
      if (c === undefined) throw new InvalidArgumentError('policy.partitions', `"${n}" is not a partition of ${table}`, 'List them first (tessera partitions list).');
      return c;
    });
  } else {
    const cutoff = now - policy.olderThanMs!;
    chosen = all.filter((c) => c.to !== null && c.to.getTime() <= cutoff);
  }
  const current = chosen.find(
    (c) => (c.from !== null || c.to !== null) && (c.from === null || c.from.getTime() <= now) && (c.to === null || now < c.to.getTime()),
  );
  if (current !== undefined) throw new RetentionRefusedError(table, current.name);
  return chosen.sort((a, b) => (a.from?.getTime() ?? 0) - (b.from?.getTime() ?? 0));
}
