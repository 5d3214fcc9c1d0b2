/**
 * Generates docs/errors.md from the error classes in src/errors/*.ts: each class's code(s), its JSDoc
 * (what it means), the hint it carries and whether it is retryable. test/docs/errors.test.ts fails when the
 * page and the classes disagree, so a new error cannot ship undocumented.
 *
 * ```sh
 * npx tsx docs/tools/errors-doc.ts --write   # regenerate docs/errors.md after adding or changing an error
 * ```
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ERRORS_DOC = join(ROOT, 'docs', 'errors.md');

/** One documented error class. */
export interface ErrorDoc {
  area: string;
  className: string;
  codes: string[];
  meaning: string;
  hint: string;
  retryable: string;
}

const AREAS: Record<string, string> = {
  base: 'Base class',
  core: 'Event store and storage',
  cqrs: 'CQRS',
  messaging: 'Messaging',
  saga: 'Sagas',
  sharding: 'Sharding',
  partitioning: 'Partitioning',
  replication: 'Replication',
  server: 'HTTP service',
};

/** Reads every exported error class of src/errors/*.ts, in file order. */
export function collectErrors(root = ROOT): ErrorDoc[] {
  const dir = join(root, 'src', 'errors');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  const order = [...Object.keys(AREAS).filter((a) => files.includes(a)), ...files.filter((f) => !(f in AREAS)).sort()];
  const out: ErrorDoc[] = [];
  for (const area of order) {
    const source = ts.createSourceFile(`${area}.ts`, readFileSync(join(dir, `${area}.ts`), 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const node of source.statements) {
      if (!ts.isClassDeclaration(node) || node.name === undefined) continue;
      if (!node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      out.push(describeClass(area, node));
    }
  }
  return out;
}

function describeClass(area: string, node: ts.ClassDeclaration): ErrorDoc {
  const className = node.name!.text;
  const meaning = ts.getJSDocCommentsAndTags(node).map((d) => (ts.isJSDoc(d) ? ts.getTextOfJSDocComment(d.comment) ?? '' : '')).join(' ').replace(/\s+/g, ' ').trim();
  const call = findSuperCall(node);
  // The base class passes its caller's code through: it has no code of its own.
  if (className === 'TesseraError') return { area, className, codes: ['any'], meaning, hint: 'Set by each subclass.', retryable: 'per subclass' };
  if (call === undefined) return { area, className, codes: ['any'], meaning, hint: 'Set by the subclass.', retryable: 'per subclass' };
  const codes = call.arguments[0] === undefined ? [] : literals(call.arguments[0]);
  const options = call.arguments[2];
  let hint = '';
  let retryable = 'no';
  if (options !== undefined && ts.isObjectLiteralExpression(options)) {
    const spread = options.properties.some((p) => ts.isSpreadAssignment(p));
    const prop = (name: string): ts.Expression | undefined => {
      for (const p of options.properties) {
        if (ts.isPropertyAssignment(p) && p.name.getText() === name) return p.initializer;
        if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) return p.name;
      }
      return undefined;
    };
    const h = prop('hint');
    hint = h === undefined ? '' : render(h);
    const r = prop('retryable');
    if (r === undefined) retryable = spread ? 'per case' : 'no';
    else if (r.kind === ts.SyntaxKind.TrueKeyword) retryable = 'yes';
    else if (r.kind === ts.SyntaxKind.FalseKeyword) retryable = 'no';
    else retryable = 'per case';
  }
  return { area, className, codes, meaning, hint, retryable };
}

function findSuperCall(node: ts.Node): ts.CallExpression | undefined {
  let found: ts.CallExpression | undefined;
  const visit = (n: ts.Node): void => {
    if (found !== undefined) return;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.SuperKeyword) found = n;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** The string literals an expression can evaluate to (a code, or both branches of a conditional). */
function literals(e: ts.Expression): string[] {
  if (ts.isStringLiteralLike(e)) return [e.text];
  if (ts.isConditionalExpression(e)) return [...literals(e.whenTrue), ...literals(e.whenFalse)];
  if (ts.isParenthesizedExpression(e)) return literals(e.expression);
  return [];
}

/** A hint as text: literals as written, `${x}` as <x>, a conditional's branches as alternatives. */
function render(e: ts.Expression): string {
  if (ts.isStringLiteralLike(e)) return e.text;
  if (ts.isTemplateExpression(e)) {
    return e.head.text + e.templateSpans.map((s) => `<${s.expression.getText()}>${s.literal.text}`).join('');
  }
  if (ts.isConditionalExpression(e)) return `${render(e.whenTrue)} — or: ${render(e.whenFalse)}`;
  if (ts.isParenthesizedExpression(e)) return render(e.expression);
  return 'Specific to each case (given where the error is thrown).';
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The whole docs/errors.md page. */
export function renderErrorsDoc(errors = collectErrors()): string {
  const lines = [
    '# Error codes',
    '',
    '[Back to the docs index](README.md)',
    '',
    '<!-- Generated by docs/tools/errors-doc.ts from src/errors/*.ts: run `npx tsx docs/tools/errors-doc.ts --write`',
    '     after adding or changing an error. test/docs/errors.test.ts fails when this page is out of date. -->',
    '',
    'Every error Tessera throws is a `TesseraError` subclass, exported from `tessera` and `tessera/errors`, with:',
    '',
    '- `code`: a stable string (below) — existing codes never change meaning;',
    '- `message`: what happened, naming the stream, saga, projection or argument involved;',
    '- `hint`: how to fix it (the hints below; `<name>` stands for a value filled in when the error is thrown);',
    '- `retryable`: whether the same call may succeed if retried unchanged;',
    '- `cause`: the underlying error, when there is one (a driver error, a handler\'s error).',
    '',
    'Check errors with `instanceof` or with `isTesseraError(e, code)`, which also recognises errors thrown by',
    'another copy of the package. `e.toJSON()` gives `{ name, code, message, hint, retryable }`: the `tessera`',
    'CLI prints it with `--json` (and exits 1 for errors the caller can fix, 2 for storage failures).',
    '',
    '```ts',
    "import { isTesseraError } from 'tessera';",
    '',
    'try {',
    "  await store.appendToStream('order-1', events, { expectedVersion: 3n });",
    '} catch (e) {',
    "  if (isTesseraError(e, 'CONCURRENCY_CONFLICT')) console.log('reload and retry:', e.hint);",
    '  else throw e;',
    '}',
    '```',
  ];
  for (const area of [...new Set(errors.map((e) => e.area))]) {
    lines.push('', `## ${AREAS[area] ?? area}`, '', '| code | class | what it means | hint | retryable |', '|---|---|---|---|---|');
    for (const e of errors.filter((x) => x.area === area)) {
      const codes = e.codes.length === 0 ? 'per case' : e.codes.map((c) => (c === 'any' ? 'any' : `\`${c}\``)).join(' / ');
      lines.push(`| ${codes} | \`${e.className}\` | ${cell(e.meaning)} | ${cell(e.hint || '—')} | ${e.retryable} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderErrorsDoc();
  if (process.argv.includes('--write')) {
    writeFileSync(ERRORS_DOC, text);
    console.log(`wrote ${ERRORS_DOC}`);
  } else {
    process.stdout.write(text);
  }
}
