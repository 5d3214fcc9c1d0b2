import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { runTs } from './run-cli.js';

const tmp = tempDir('tessera-walkthrough-');
afterAll(() => tmp.remove());

describe('npm run walkthrough', () => {
  // TESSERA_DB points the walk-through at a temp file instead of ./data/tessera.db; the folder is created.
  const db = join(tmp.dir, 'data', 'tessera.db');
  const start = () => runTs('examples/walkthrough.ts', [], { env: { TESSERA_DB: db } });

  it('runs to the end, shows every section, and can run again on the same file', async () => {
    const first = await start();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(existsSync(db)).toBe(true);
    const out = first.stdout;
    expect(out).toContain('Tessera walk-through, run 1');
    expect(out).toMatch(/^cart-1\s+CartOpened, ItemAdded, ItemAdded\s+no_stream\s+3\s+4$/m);
    expect(out).toContain('B appends CheckedOut expecting version 4: rejected, nothing written.');
    expect(out).toMatch(/^\s+code\s+CONCURRENCY_CONFLICT$/m);
    expect(out).toMatch(/^\s+expected\s+4$/m);
    expect(out).toMatch(/^\s+actual\s+5$/m);
    expect(out).toMatch(/^\s+hint\s+Another writer appended first/m);
    expect(out).toContain('cart-1 at version 6: 2 x MUG-2, 1 x PEN-3; total 19.00; checked out');
    expect(out).toMatch(/^now\s+3\s+70$/m);
    expect(out).toMatch(/^version 1\s+1\s+0$/m);
    expect(out).toMatch(/^time \S+\s+2\s+100$/m);
    expect(out).toMatch(/^first\s+4\s+11$/m);
    expect(out).toMatch(/^retry\s+4\s+11$/m);
    expect(out).toContain('The file holds 11 events in all');

    const second = await start();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Tessera walk-through, run 2');
    expect(second.stdout).toContain('cart-2 at version 6');
    expect(second.stdout).toContain('The file holds 22 events in all');

    // The events really are in the file, as the walk-through printed them.
    const store = await openSqliteEventStore({ path: db });
    try {
      expect((await store.readStream('cart-2')).map((e) => e.type)).toEqual([
        'CartOpened', 'ItemAdded', 'ItemAdded', 'ItemRemoved', 'ItemAdded', 'CheckedOut',
      ]);
      expect(await store.streamExists('account-2')).toBe(true);
    } finally {
      await store.close();
    }
  });
});
