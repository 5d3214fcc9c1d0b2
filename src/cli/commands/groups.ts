import type { Command } from 'commander';
import { consumerGroupStatus, type ConsumerGroupStatus, listConsumerGroups } from '../../partitioning/status.js';
import { note, withStore, writeLine } from '../context.js';
import { jsonLine, keyValues, table } from '../format.js';

/**
 * `tessera groups list|status`: the consumer groups whose tables live in the store's database, and for
 * one group its members, the partitions each holds, and checkpoint and lag per partition. Reads only.
 *
 * @example
 * ```sh
 * tessera groups list
 * tessera groups status order-totals --json
 * ```
 */
export function register(program: Command): void {
  const groups = program.command('groups').description('list consumer groups, or show one group\'s members, partitions and lag');

  groups
    .command('list')
    .description('every consumer group with its partition count and live members')
    .action(async (_opts: unknown, cmd: Command) => {
      await withStore(cmd, 'existing', async (store, g) => {
        const all = await listConsumerGroups(store);
        if (g.json) for (const x of all) await writeLine(jsonLine(x));
        else if (all.length === 0) note('no consumer groups in this database');
        else await writeLine(table(['group', 'partitions', 'live members', 'created'], all.map((x) => [x.group, String(x.partitions), String(x.liveMembers), x.createdAt.toISOString()]), ['left', 'right', 'right']));
      });
    });

  groups
    .command('status <group>')
    .description('members, partitions per member, checkpoint and lag per partition')
    .action(async (group: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, 'existing', async (store, g) => {
        const status = await consumerGroupStatus(store, group);
        await writeLine(g.json ? jsonLine(status) : renderStatus(status));
      });
    });
}

function renderStatus(s: ConsumerGroupStatus): string {
  const summary = keyValues([
    ['group', s.group],
    ['partitions', String(s.partitions)],
    ['head position', String(s.head)],
    ['total lag', `${s.totalLag}${s.partitionStatus.every((p) => p.lagExact) ? '' : '+'} events`],
  ]);
  const members = s.members.length === 0
    ? 'no live members'
    : table(['member', 'live', 'partitions', 'heartbeat until'], s.members.map((m) => [m.memberId, m.live ? 'yes' : 'no', m.partitions.join(',') || '-', m.expiresAt.toISOString()]));
  const parts = table(
    ['partition', 'owner', 'fence', 'checkpoint', 'lag'],
    s.partitionStatus.map((p) => [String(p.partition), p.owner ?? '-', p.fence === null ? '-' : String(p.fence), String(p.checkpoint), `${p.lag}${p.lagExact ? '' : '+'}`]),
    ['right', 'left', 'right', 'right', 'right'],
  );
  return `${summary}\n\n${members}\n\n${parts}`;
}
