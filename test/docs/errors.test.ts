import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectErrors, ERRORS_DOC, renderErrorsDoc } from '../../docs/tools/errors-doc.js';
import * as errors from '../../src/errors.js';

describe('docs/errors.md', () => {
  it('is generated from the error classes (npx tsx docs/tools/errors-doc.ts --write regenerates it)', () => {
    expect(readFileSync(ERRORS_DOC, 'utf8')).toBe(renderErrorsDoc());
  });

  it('documents every exported error class with a code, a meaning and a hint', () => {
    const exported = Object.entries(errors)
      .filter(([, v]) => typeof v === 'function' && (v === errors.TesseraError || v.prototype instanceof errors.TesseraError))
      .map(([name]) => name)
      .sort();
    const documented = collectErrors();
    expect(documented.map((e) => e.className).sort()).toEqual(exported);
    for (const e of documented) {
      expect(e.codes.length, e.className).toBeGreaterThan(0);
      expect(e.meaning.length, e.className).toBeGreaterThan(10);
      expect(e.hint.length, e.className).toBeGreaterThan(5);
    }
  });
});
