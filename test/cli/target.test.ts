import fc from 'fast-check';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeTarget } from '../../src/cli/context.js';
import { InvalidArgumentError } from '../../src/index.js';

describe('storeTarget (--db, --schema)', () => {
  it('never shows the password of a postgres:// URL, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('postgres', 'postgresql', 'POSTGRES'), (password, scheme) => {
        const url = `${scheme}://app:${encodeURIComponent(password)}@db.internal:5432/shop`;
        const target = storeTarget({ db: url, schema: 'Orders', json: false });
        expect(target.kind).toBe('postgres');
        expect(target.label).toBe(`${scheme.toLowerCase()}://app:***@db.internal:5432/shop (schema orders)`);
        if (target.kind === 'postgres') expect(target.url).toBe(url); // connects with the real one
      }),
    );
  });

  it('treats anything else as a SQLite file path, resolved against the working directory', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !/^postgres(ql)?:\/\//i.test(s)), (db) => {
        expect(storeTarget({ db, schema: 'not-checked-for-files', json: false })).toEqual({ kind: 'sqlite', path: resolve(db), label: resolve(db) });
      }),
    );
  });

  it('rejects an empty --db and a bad schema with InvalidArgumentError before connecting', () => {
    expect(() => storeTarget({ db: '', schema: 'tessera', json: false })).toThrow(InvalidArgumentError);
    expect(() => storeTarget({ db: 'postgres://h/db', schema: 'a;drop', json: false })).toThrow(/Invalid schema/);
    expect(() => storeTarget({ db: 'postgres://[::1', schema: 'tessera', json: false })).toThrow(/Invalid --db: is not a valid postgres:\/\/ URL/);
  });
});
