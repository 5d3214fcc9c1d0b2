/**
 * `npm start`: the orders demo service with its dashboard, on ./data/orders.db (no server needed).
 *
 * ```sh
 * npm start                                  # http://127.0.0.1:3000/
 * npm start -- --port 8080 --simulate 20     # 20 orders per second of steady load
 * npm start -- --decline-rate 0.2 --shipping-timeout-rate 0.3
 * TESSERA_DB=postgres://postgres@127.0.0.1/test npm start
 * TESSERA_ADMIN_TOKEN=secret npm start -- --host 0.0.0.0
 * TESSERA_DB=postgres://db1/app TESSERA_REPLICAS=postgres://db2/app,postgres://db3/app npm start
 * ```
 */
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { listenService } from '../../src/server/index.js';
import { startOrderService } from './service.js';
import { startSimulation } from './simulate.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    simulate: { type: 'string', default: '0' },
    'decline-rate': { type: 'string', default: '0.05' },
    'shipping-timeout-rate': { type: 'string', default: '0.1' },
    'no-scale-out': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: npm start -- [--port 3000] [--host 127.0.0.1] [--simulate <orders/s>] [--decline-rate 0.05] [--shipping-timeout-rate 0.1] [--no-scale-out]');
  console.log('  scale-out (default on): consumer groups, a log-shipping follower into replica.db and a sharded copy in shards/, in ./data');
  console.log('  (next to orders.db; <file>-scale-out/ for another SQLite file; data/pg-<host-db-schema>/ for PostgreSQL)');
  console.log('Environment: TESSERA_DB (file path or postgres://…), TESSERA_BUS (nats://…), TESSERA_ADMIN_TOKEN, TESSERA_LOG_LEVEL,');
  console.log('  TESSERA_REPLICAS (postgres://…,postgres://…: streaming replicas of TESSERA_DB, shown in the replication panel)');
  process.exit(0);
}
const number = (name: string, value: string, max: number): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max) {
    console.error(`--${name} must be a number from 0 to ${max} (got "${value}")`);
    process.exit(2);
  }
  return n;
};
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}
const port = number('port', values.port, 65_535);
const rate = number('simulate', values.simulate, 1_000);
const adminToken = process.env.TESSERA_ADMIN_TOKEN || undefined;
const dbTarget = process.env.TESSERA_DB || './data/orders.db';
// Each source gets its own copies: a follower checkpoint or a shard file of another database would not fit.
const dataDir = /^postgres(ql)?:\/\//.test(dbTarget)
  ? join('./data', `pg-${slug(`${new URL(dbTarget).host}${new URL(dbTarget).pathname}-${new URL(dbTarget).searchParams.get('schema') ?? 'tessera'}`)}`)
  : basename(dbTarget) === 'orders.db' ? dirname(dbTarget) : join(dirname(dbTarget), `${basename(dbTarget, extname(dbTarget))}-scale-out`);
const replicas = (process.env.TESSERA_REPLICAS ?? '').split(',').map((r) => r.trim()).filter((r) => r.length > 0);

const svc = await startOrderService({
  ...(process.env.TESSERA_DB ? { db: process.env.TESSERA_DB } : {}),
  ...(process.env.TESSERA_BUS ? { bus: process.env.TESSERA_BUS } : {}),
  ...(adminToken === undefined ? {} : { adminToken }),
  ...(values['no-scale-out'] ? {} : { scaleOut: { dir: dataDir, replicas } }),
  failures: { paymentDeclineRate: number('decline-rate', values['decline-rate'], 1), shippingTimeoutRate: number('shipping-timeout-rate', values['shipping-timeout-rate'], 1) },
});
let url: string;
try {
  url = await listenService(svc.app, { host: values.host, port, ...(adminToken === undefined ? {} : { adminToken }) });
} catch (e) {
  await svc.close();
  const hint = e instanceof Error && 'code' in e && e.code === 'EADDRINUSE' ? `port ${port} is taken: pass another with --port` : e instanceof Error && 'hint' in e ? String(e.hint) : '';
  console.error(`${e instanceof Error ? e.message : String(e)}${hint ? `\n  hint: ${hint}` : ''}`);
  process.exit(1);
}
const simulation = rate > 0 ? startSimulation(svc.app, rate) : null;
console.log(`Tessera orders demo: dashboard at ${url}/dashboard/ (API document ${url}/openapi.json)`);
if (adminToken === undefined) console.log('Admin actions (rebuild, retry, cancel, skip) are off: set TESSERA_ADMIN_TOKEN to enable them.');

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await simulation?.stop();
  await svc.close();
  console.log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
