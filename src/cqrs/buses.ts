import { InvalidArgumentError } from '../errors.js';
import { requireOptionsObject } from '../support/validate.js';
import { type MessageEnvelope, type BusOptions, Dispatcher, type HandlerDefinition, type Middleware } from './bus.js';
import { type ProjectionRef, waitFor } from './wait.js';

/** The messages a bus knows: type → payload and result. Grows with each `register`. */
export type MessageMap = Record<string, { payload: unknown; result: unknown }>;

/**
 * Sends commands to their one registered handler through a middleware chain. `register` returns the same
 * bus with a wider type, so `send` checks the payload and result types of every registered command.
 *
 * @example
 * ```ts
 * const bus = createCommandBus({ middleware: [loggingMiddleware(console.log)] })
 *   .register('AddItem', {
 *     schema: z.object({ cartId: z.string(), sku: z.string(), qty: z.number().int().positive() }),
 *     handle: (p) => handleCommand(store, p.cartId, { type: 'AddItem', ...p }, cartDecider),
 *   });
 * const r = await bus.send('AddItem', { cartId: 'c1', sku: 'A', qty: 1 });
 * ```
 */
export class CommandBus<M extends MessageMap = Record<never, never>> {
  readonly #dispatcher: Dispatcher;

  constructor(options?: BusOptions) {
    this.#dispatcher = new Dispatcher('command', options);
  }

  /** Registers the one handler of `type`; registering a type twice throws `InvalidArgumentError`. */
  register<T extends string, P, R>(type: T, definition: HandlerDefinition<P, R>): CommandBus<M & Record<T, { payload: P; result: Awaited<R> }>> {
    this.#dispatcher.register(type, definition as HandlerDefinition<unknown, unknown>);
    return this as unknown as CommandBus<M & Record<T, { payload: P; result: Awaited<R> }>>;
  }

  /** Adds a middleware (runs inside those given at creation). */
  use(middleware: Middleware): this {
    this.#dispatcher.use(middleware);
    return this;
  }

  /** Whether `type` has a handler. */
  has(type: string): boolean {
    return this.#dispatcher.has(type);
  }

  /** Validates and handles a command. Unknown type: `UnknownCommandError`; bad payload: `CommandValidationError`. */
  async send<K extends keyof M & string>(type: K, payload: M[K]['payload'], options?: { metadata?: Record<string, unknown> }): Promise<M[K]['result']> {
    const o = requireOptionsObject(options, 'options') as { metadata?: Record<string, unknown> };
    return (await this.#dispatcher.dispatch(type, payload, o.metadata)) as M[K]['result'];
  }
}

/** Query consistency: by default read whatever the read model holds now. */
export interface QueryOptions {
  metadata?: Record<string, unknown>;
  /** `'read-your-writes'` waits until the query's projections passed `after` (a command's `lastGlobalPosition`). */
  consistency?: 'eventual' | 'read-your-writes';
  after?: bigint;
  /** Longest wait for read-your-writes (default 5000 ms), then `ConsistencyTimeoutError`. */
  timeoutMs?: number;
}

/** A query handler, plus the projections it reads (waited for under read-your-writes). */
export interface QueryDefinition<P, R> extends HandlerDefinition<P, R> {
  projections?: ProjectionRef[];
}

/**
 * Sends queries to their one registered handler. A query registered with the projections it reads can be
 * sent with `{ consistency: 'read-your-writes', after }` to see the effect of an earlier command.
 *
 * @example
 * ```ts
 * const queries = createQueryBus().register('CartTotal', {
 *   schema: z.object({ cartId: z.string() }),
 *   projections: [projector.ref('cart_totals')],
 *   handle: async (p) => (await db.query('SELECT total FROM cart_totals WHERE cart_id = ?', [p.cartId]))[0],
 * });
 * const row = await queries.send('CartTotal', { cartId: 'c1' }, { consistency: 'read-your-writes', after: r.lastGlobalPosition });
 * ```
 */
export class QueryBus<M extends MessageMap = Record<never, never>> {
  readonly #dispatcher: Dispatcher;
  readonly #projections = new Map<string, ProjectionRef[]>();

  constructor(options?: BusOptions) {
    this.#dispatcher = new Dispatcher('query', options);
  }

  register<T extends string, P, R>(type: T, definition: QueryDefinition<P, R>): QueryBus<M & Record<T, { payload: P; result: Awaited<R> }>> {
    const refs = (definition as Partial<QueryDefinition<P, R>> | undefined)?.projections ?? [];
    if (!Array.isArray(refs)) {
      throw new InvalidArgumentError('definition.projections', 'is not an array', 'Pass projections: [projector.ref(name)].');
    }
    this.#dispatcher.register(type, definition as HandlerDefinition<unknown, unknown>);
    this.#projections.set(type, refs);
    return this as unknown as QueryBus<M & Record<T, { payload: P; result: Awaited<R> }>>;
  }

  use(middleware: Middleware): this {
    this.#dispatcher.use(middleware);
    return this;
  }

  has(type: string): boolean {
    return this.#dispatcher.has(type);
  }

  async send<K extends keyof M & string>(type: K, payload: M[K]['payload'], options?: QueryOptions): Promise<M[K]['result']> {
    const o = requireOptionsObject(options, 'options') as QueryOptions;
    const consistency = o.consistency ?? 'eventual';
    if (consistency !== 'eventual' && consistency !== 'read-your-writes') {
      throw new InvalidArgumentError('consistency', `"${String(consistency)}" is not eventual or read-your-writes`, "Pass consistency: 'read-your-writes' with after: position.");
    }
    if (consistency === 'read-your-writes' && typeof o.after !== 'bigint') {
      throw new InvalidArgumentError('after', 'is required (a bigint position) for read-your-writes', "Pass after: result.lastGlobalPosition from the command.");
    }
    const inner =
      consistency === 'eventual'
        ? undefined
        : async (message: MessageEnvelope): Promise<void> => {
            const timeoutMs = o.timeoutMs ?? 5_000;
            await Promise.all((this.#projections.get(message.type) ?? []).map((ref) => waitFor(ref, o.after!, { timeoutMs })));
          };
    return (await this.#dispatcher.dispatch(type, payload, o.metadata, inner)) as M[K]['result'];
  }
}

/**
 * Creates a {@link CommandBus}.
 *
 * @example
 * ```ts
 * const bus = createCommandBus().register('Ping', { handle: () => 'pong' });
 * ```
 */
export function createCommandBus(options?: BusOptions): CommandBus {
  return new CommandBus(options);
}

/**
 * Creates a {@link QueryBus}.
 *
 * @example
 * ```ts
 * const queries = createQueryBus().register('Now', { handle: () => Date.now() });
 * ```
 */
export function createQueryBus(options?: BusOptions): QueryBus {
  return new QueryBus(options);
}
