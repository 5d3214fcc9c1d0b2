import type { Command } from 'commander';
import { InvalidArgumentError, ReplicaDivergedError } from '../../errors.js';
import { openLogShippingFollower } from '../../replication/follower.js';
import type { FollowerTarget } from '../../replication/follower-target.js';
import { openReplicaSet } from '../../replication/replica-set.js';
import type { ReplicaSetStatus } from '../../replication/status.js';
import { verifyReplica, type VerifyReport } from '../../replication/verify.js';
import { globalOptions, note, openStore, openTarget, storeTarget, withStore, writeLine } from '../context.js';
import { jsonLine, keyValues, table } from '../format.js';
import { parsePositiveInt } from '../parse.js';

/**
 * `tessera replicas status|verify|follow`: lag and health of PostgreSQL streaming replicas of the `--db`
 * primary; an event-by-event comparison of `--db` with a copy; a log-shipping follower from `--db` into a
 * SQLite file or another PostgreSQL schema.
 *
 * @example
 * ```sh
 * tessera --db postgres://db1/app replicas status --replica postgres://db2/app --replica postgres://db3/app
 * tessera --db postgres://db1/app replicas follow ./edge/app.db --once
 * tessera --db postgres://db1/app replicas verify ./edge/app.db
 * ```
 */
export function register(program: Command): void {
  const replicas = program.command('replicas').description('leader-follower replication: replica lag, log-shipping followers, verification');
  replicas
    .command('status')
    .description('lag (bytes, ms), health and rotation of the streaming replicas of the --db primary')
    .requiredOption('--replica <url...>', 'connection string of a streaming replica (repeat for each)')
    .action(async (opts: { replica: string[] }, cmd: Command) => {
      const g = globalOptions(cmd);
      const target = storeTarget(g);
      if (target.kind !== 'postgres') throw new InvalidArgumentError('--db', 'is not a postgres:// URL', 'Point --db at the primary PostgreSQL server.');
      await openTarget(target, 'existing').then((s) => s.close());
      const rs = await openReplicaSet({ primary: target.url, schema: target.schema, replicas: opts.replica, maxConnections: 2 });
      try {
        const s = await rs.refresh();
        await writeLine(g.json ? jsonLine(s) : renderStatus(s));
      } finally {
        await rs.close();
      }
    });
  replicas
    .command('verify')
    .description('compare the --db log with a copy (a file or postgres:// URL) event by event; exit 1 on divergence')
    .argument('<replica>', 'the copy: a SQLite file or a postgres:// URL')
    .option('--replica-schema <schema>', 'schema of a PostgreSQL copy (default: --schema)')
    .option('--positions', 'compare global positions too (streaming replicas; not log-shipping copies)')
    .action(async (replica: string, opts: { replicaSchema?: string; positions?: boolean }, cmd: Command) => {
      await withStore(cmd, 'existing', async (source, g) => {
        const copy = await openStore(replica, 'existing', opts.replicaSchema ?? g.schema);
        try {
          const report = await verifyReplica(source, copy, { comparePositions: opts.positions === true });
          await writeLine(g.json ? jsonLine(report) : renderVerify(report));
          if (!report.identical) throw new ReplicaDivergedError(report.divergenceCount, report.divergences[0]?.eventId ?? null);
        } finally {
          await copy.close();
        }
      });
    });
  replicas
    .command('follow')
    .description('copy the --db log into a target store, resumably; keeps following until interrupted unless --once')
    .argument('<target>', 'a SQLite file or a postgres:// URL')
    .option('--target-schema <schema>', 'schema of a PostgreSQL target (default: --schema)')
    .option('--once', 'stop when caught up')
    .option('--batch <n>', 'events per target transaction', '1000')
    .action(async (targetArg: string, opts: { targetSchema?: string; once?: boolean; batch: string }, cmd: Command) => {
      const batchSize = parsePositiveInt(opts.batch, '--batch');
      await withStore(cmd, 'existing', async (source, g) => {
        const t = storeTarget({ ...g, db: targetArg, schema: opts.targetSchema ?? g.schema });
        const target: FollowerTarget = t.kind === 'sqlite' ? { path: t.path } : { connectionString: t.url, schema: t.schema };
        const follower = await openLogShippingFollower({ source, target, batchSize });
        try {
          const first = await follower.catchUp();
          note(`copied ${first.copied} events; checkpoint at source position ${first.checkpoint.sourcePosition}`);
          if (!opts.once) {
            const { done } = follower.start();
            const stop = (): void => void follower.stop();
            process.once('SIGINT', stop).once('SIGTERM', stop);
            await done;
          }
          const cp = await follower.checkpoint();
          await writeLine(g.json ? jsonLine({ target: t.label, ...cp }) : `${t.label}: ${cp.copied} events copied, source position ${cp.sourcePosition}`);
        } finally {
          await follower.close();
        }
      });
    });
}

function renderStatus(s: ReplicaSetStatus): string {
  const head = keyValues([
    ['primary', `${s.primary.name} (${s.primary.healthy ? 'healthy' : `down: ${s.primary.reason ?? ''}`}), WAL ${s.primary.lsn}`],
    ['failovers', String(s.failovers)],
  ]);
  const rows = s.replicas.map((r) => [r.name, r.healthy ? 'yes' : 'no', r.inRotation ? 'yes' : 'no', String(r.lagBytes), String(r.lagMs), r.replayLsn, r.syncState ?? '-', r.reason ?? '']);
  return `${head}\n${table(['replica', 'healthy', 'in rotation', 'lag bytes', 'lag ms', 'replay LSN', 'sync', 'note'], rows, ['left', 'left', 'left', 'right', 'right'])}`;
}

function renderVerify(r: VerifyReport): string {
  const head = `${r.identical ? 'identical' : `DIVERGENT: ${r.divergenceCount} difference(s)`}: source ${r.sourceEvents} events in ${r.streams} streams, copy ${r.replicaEvents} events; digests ${r.sourceDigest} / ${r.replicaDigest}`;
  if (r.identical) return head;
  const rows = r.divergences.map((d) => [String(d.index), d.kind, d.eventId, d.streamId, String(d.streamVersion), String(d.sourcePosition ?? '-'), String(d.replicaPosition ?? '-'), d.fields.join(',')]);
  return `${head}\n${table(['#', 'kind', 'event id', 'stream', 'version', 'source pos', 'copy pos', 'fields'], rows)}`;
}
