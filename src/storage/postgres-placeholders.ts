/**
 * Numbers the port's `?` placeholders as PostgreSQL's `$1, $2, …`, leaving alone every `?` inside a
 * single-quoted string (also `E'…'`), a double-quoted identifier, a dollar-quoted body (`$$…$$`, `$tag$…$tag$`)
 * and `--` or `/* … *\/` comments. A `?` anywhere else is a placeholder, so jsonb's `?`, `?|` and `?&`
 * operators must be written as functions (`jsonb_exists`, `jsonb_exists_any`, `jsonb_exists_all`).
 *
 * @example
 * ```ts
 * numberPlaceholders("SELECT * FROM t WHERE a = ? AND b = '?'"); // { text: "… a = $1 AND b = '?'", count: 1 }
 * ```
 */
export function numberPlaceholders(sql: string): { text: string; count: number } {
  let out = '';
  let count = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    let end = i + 1;
    if (c === "'" || c === '"') {
      end = closingQuote(sql, i, c);
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? n : nl;
    } else if (c === '/' && next === '*') {
      end = closingBlockComment(sql, i);
    } else if (c === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 70));
      if (tag && !isIdentifierChar(sql[i - 1])) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? n : close + tag[0].length;
      }
    } else if (c === '?') {
      out += `$${++count}`;
      i++;
      continue;
    }
    out += sql.slice(i, end);
    i = end;
  }
  return { text: out, count };
}

function closingQuote(sql: string, start: number, quote: string): number {
  let j = start + 1;
  for (;;) {
    const k = sql.indexOf(quote, j);
    if (k < 0) return sql.length;
    // A doubled quote is an escaped quote inside the literal.
    if (sql[k + 1] === quote) {
      j = k + 2;
      continue;
    }
    // E'…' strings may escape a quote with a backslash.
    if (quote === "'" && isEscapeString(sql, start) && backslashesBefore(sql, k) % 2 === 1) {
      j = k + 1;
      continue;
    }
    return k + 1;
  }
}

function closingBlockComment(sql: string, start: number): number {
  // Block comments nest in PostgreSQL.
  let depth = 0;
  let j = start;
  while (j < sql.length) {
    if (sql.startsWith('/*', j)) {
      depth++;
      j += 2;
    } else if (sql.startsWith('*/', j)) {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return sql.length;
}

function isEscapeString(sql: string, quoteAt: number): boolean {
  const prev = sql[quoteAt - 1];
  return (prev === 'E' || prev === 'e') && !isIdentifierChar(sql[quoteAt - 2]);
}

function backslashesBefore(sql: string, at: number): number {
  let k = at - 1;
  while (k >= 0 && sql[k] === '\\') k--;
  return at - 1 - k;
}

function isIdentifierChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}
