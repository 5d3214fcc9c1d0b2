import { InvalidArgumentError } from '../errors.js';
import { CommandValidationError, UnknownCommandError } from '../errors.js';
import { requireBoundedString, requireOptionsObject } from '../support/validate.js';

/**
 * The shared machinery of the command and query buses: one handler per message type, a payload schema
 * per type (any zod schema, or anything with the same `safeParse`), and a middleware chain around every
 * dispatch.
 * @module
 */

/** What a bus needs from a schema: zod's `safeParse` (zod 3 and 4 both fit). */
export interface PayloadSchema<T> {
  safeParse(data: unknown):
    | { success: true; data: T }
    | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/** One message on its way through the middleware chain. */
export interface MessageEnvelope {
  kind: 'command' | 'query';
  type: string;
  /** The payload; after the validation middleware, the schema's parsed output. */
  payload: unknown;
  /** Free-form metadata from the sender (correlation ids, user, trace context). */
  metadata: Record<string, unknown>;
}

/** Wraps a dispatch: call `next()` to continue (at most once), or return/throw without it to stop. */
export type Middleware = (message: MessageEnvelope, next: () => Promise<unknown>) => Promise<unknown>;

/** A registered handler. */
export interface HandlerDefinition<P, R> {
  /** Validates (and may transform) the payload before the handler sees it. */
  schema?: PayloadSchema<P>;
  handle(payload: P, message: MessageEnvelope): Promise<R> | R;
}

interface Registered {
  schema: PayloadSchema<unknown> | undefined;
  handle(payload: unknown, message: MessageEnvelope): unknown;
}

/** Options of both buses. */
export interface BusOptions {
  /** Run around every dispatch, first one outermost; schema validation runs inside them, right before the handler. */
  middleware?: Middleware[];
}

/** The engine behind CommandBus and QueryBus. */
export class Dispatcher {
  readonly #handlers = new Map<string, Registered>();
  readonly #middleware: Middleware[];

  constructor(
    private readonly kind: 'command' | 'query',
    options: BusOptions | undefined,
  ) {
    const o = requireOptionsObject(options, 'options') as BusOptions;
    this.#middleware = [];
    for (const m of o.middleware ?? []) this.use(m);
  }

  use(middleware: Middleware): void {
    if (typeof middleware !== 'function') {
      throw new InvalidArgumentError('middleware', 'is not a function', 'Pass async (message, next) => { …; return next(); }.');
    }
    this.#middleware.push(middleware);
  }

  register(type: string, definition: HandlerDefinition<unknown, unknown>): void {
    requireBoundedString(type, `${this.kind} type`, 256);
    const d = requireOptionsObject(definition, 'definition') as Partial<HandlerDefinition<unknown, unknown>>;
    if (typeof d.handle !== 'function') {
      throw new InvalidArgumentError('definition.handle', 'is not a function', `Pass register('${type}', { handle: async (payload) => … }).`);
    }
    if (d.schema !== undefined && typeof d.schema?.safeParse !== 'function') {
      throw new InvalidArgumentError('definition.schema', 'has no safeParse method', 'Pass a zod schema, e.g. z.object({ … }).');
    }
    if (this.#handlers.has(type)) {
      throw new InvalidArgumentError(`${this.kind} type`, `"${type}" already has a handler`, `Register exactly one handler per ${this.kind} type.`);
    }
    this.#handlers.set(type, { schema: d.schema, handle: d.handle.bind(d) });
  }

  has(type: string): boolean {
    return this.#handlers.has(type);
  }

  async dispatch(type: string, payload: unknown, metadata: unknown, inner?: (message: MessageEnvelope) => Promise<void>): Promise<unknown> {
    if (typeof type !== 'string') throw new InvalidArgumentError(`${this.kind} type`, 'is not a string', `Pass the ${this.kind} type as a string.`);
    const handler = this.#handlers.get(type);
    if (handler === undefined) throw new UnknownCommandError(this.kind, type);
    const message: MessageEnvelope = { kind: this.kind, type, payload, metadata: { ...requireOptionsObject(metadata, 'metadata') } };
    const final = async (): Promise<unknown> => {
      if (handler.schema) {
        const parsed = handler.schema.safeParse(message.payload);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
          throw new CommandValidationError(this.kind, type, issues);
        }
        message.payload = parsed.data;
      }
      if (inner) await inner(message);
      return handler.handle(message.payload, message);
    };
    const chain = this.#middleware.reduceRight<() => Promise<unknown>>(
      (next, m) => () => {
        let called = false;
        return m(message, () => {
          if (called) throw new InvalidArgumentError('middleware', 'called next() twice', 'Call next() at most once per message.');
          called = true;
          return next();
        });
      },
      final,
    );
    return chain();
  }
}
