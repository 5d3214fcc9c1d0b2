import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempFile } from './payload.js';
import { freshDatabase } from './targets/pg-admin.js';
import type { Engine, Kind, Sizes } from './types.js';

const CHILD = fileURLToPath(new URL('./stream-all-child.ts', import.meta.url));

/** One row of workload (f). */
export interface StreamAllRow {
  id: string;
  label: string;
  engine: Engine;
  kind: Kind;
  unavailable?: string;
}

export interface StreamAllSample {
  eventsPerSecond: number;
  peakRssMb: number;
  baselineRssMb: number;
}

/** Seeds a fresh store in one child, then streams it `reps` times, each in a new child. */
export async function measureStreamAll(row: StreamAllRow, sizes: Sizes, onRep: () => void): Promise<StreamAllSample[]> {
  const location = row.engine === 'sqlite' ? tempFile('stream-all.db') : await freshDatabase(`streamall_${row.kind}`);
  const where = 'path' in location ? [location.path] : [location.connectionString, String(sizes.streamAllEvents), location.schema];
  try {
    const args = (mode: string): string[] => [mode, row.kind, row.engine, where[0]!, String(sizes.streamAllEvents), ...where.slice(2)];
    await runChild(args('seed'));
    const samples: StreamAllSample[] = [];
    for (let rep = 0; rep < sizes.streamAllReps; rep++) {
      const out = await runChild(args('stream'));
      const r = JSON.parse(out) as { events: number; seconds: number; baselineRssKb: number; peakRssKb: number };
      if (r.events !== sizes.streamAllEvents) throw new Error(`${row.label} streamed ${r.events} events, expected ${sizes.streamAllEvents}`);
      samples.push({ eventsPerSecond: r.events / r.seconds, peakRssMb: r.peakRssKb / 1024, baselineRssMb: r.baselineRssKb / 1024 });
      onRep();
    }
    return samples;
  } finally {
    if ('remove' in location) location.remove();
    else await location.drop();
  }
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(last);
      else reject(new Error(`stream-all child ${args.slice(0, 3).join(' ')} exited ${code}: ${err.trim().slice(-500)}`));
    });
  });
}
