import type { MessageEnvelope, Middleware } from './bus.js';

/**
 * Logs every command or query: type, outcome and duration.
 *
 * @example
 * ```ts
 * const bus = createCommandBus({ middleware: [loggingMiddleware((line, fields) => logger.info(fields, line))] });
 * ```
 */
export function loggingMiddleware(log: (line: string, fields: Record<string, unknown>) => void, now: () => number = Date.now): Middleware {
  return async (message, next) => {
    const started = now();
    try {
      const result = await next();
      log(`${message.kind} ${message.type} ok`, { kind: message.kind, type: message.type, ms: now() - started });
      return result;
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
      log(`${message.kind} ${message.type} failed`, { kind: message.kind, type: message.type, ms: now() - started, error: String(error), code });
      throw error;
    }
  };
}

/** Hooks a tracer (OpenTelemetry or anything else) into a bus. */
export interface TracingHooks<Span> {
  start(message: MessageEnvelope): Span;
  end(span: Span, outcome: { ok: true; result: unknown } | { ok: false; error: unknown }): void;
}

/**
 * Opens a span per command or query and closes it with the outcome.
 *
 * @example
 * ```ts
 * const bus = createCommandBus({ middleware: [tracingMiddleware({
 *   start: (m) => tracer.startSpan(`${m.kind} ${m.type}`),
 *   end: (span, o) => { if (!o.ok) span.recordException(o.error as Error); span.end(); },
 * })] });
 * ```
 */
export function tracingMiddleware<Span>(hooks: TracingHooks<Span>): Middleware {
  return async (message, next) => {
    const span = hooks.start(message);
    try {
      const result = await next();
      hooks.end(span, { ok: true, result });
      return result;
    } catch (error) {
      hooks.end(span, { ok: false, error });
      throw error;
    }
  };
}
