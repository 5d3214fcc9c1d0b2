import { type Decider, type NewEvent, type RecordedEvent, TesseraError } from '../../src/index.js';
import type { OrderItem } from './services.js';

/** Where an order stands, folded from its stream `order-<id>`. */
export interface OrderState {
  status: 'none' | 'placed' | 'confirmed' | 'rejected';
  items: OrderItem[];
  amount: number;
  reason?: string;
}

/** What can be asked of an order. */
export type OrderCommand =
  | { type: 'PlaceOrder'; orderId: string; items: OrderItem[]; amount: number; address?: string }
  | { type: 'ConfirmOrder'; orderId: string }
  | { type: 'RejectOrder'; orderId: string; reason: string };

/**
 * An order is in a state that does not allow the command (placed twice, confirmed after a rejection…).
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'ORDER_STATE')) reply.code(409); }
 * ```
 */
export class OrderStateError extends TesseraError {
  constructor(readonly orderId: string, readonly status: OrderState['status'], command: string) {
    super('ORDER_STATE', `Order "${orderId}" is ${status === 'none' ? 'not placed' : status}: ${command} is not allowed`, {
      hint: status === 'none' ? 'Place the order first.' : 'Use a new order id for a new order; GET /api/orders/<id> shows this one.',
    });
  }
}

/** The order's stream id. */
export const orderStream = (orderId: string): string => `order-${orderId}`;

/**
 * The Order aggregate as a decider: pure `decide` and `evolve`, so it is tested without a database and
 * `handleCommand` adds loading, appending and conflict retries.
 *
 * @example
 * ```ts
 * await handleCommand(store, orderStream('o-1'), { type: 'PlaceOrder', orderId: 'o-1', items, amount: 30 }, orderDecider);
 * ```
 */
export const orderDecider: Decider<OrderState, OrderCommand, NewEvent> = {
  initialState: () => ({ status: 'none', items: [], amount: 0 }),
  decide(command, state) {
    const { orderId } = command;
    switch (command.type) {
      case 'PlaceOrder':
        if (state.status !== 'none') throw new OrderStateError(orderId, state.status, command.type);
        return { type: 'OrderPlaced', data: { orderId, items: command.items, amount: command.amount, address: command.address ?? null } };
      case 'ConfirmOrder':
        if (state.status === 'confirmed') return [];
        if (state.status !== 'placed') throw new OrderStateError(orderId, state.status, command.type);
        return { type: 'OrderConfirmed', data: { orderId } };
      case 'RejectOrder':
        // Rejecting an order that never got placed is a no-op: compensation may run before the order was recorded.
        if (state.status === 'rejected' || state.status === 'none') return [];
        if (state.status !== 'placed') throw new OrderStateError(orderId, state.status, command.type);
        return { type: 'OrderRejected', data: { orderId, reason: command.reason } };
    }
  },
  evolve(state, event: RecordedEvent) {
    const d = event.data as { items?: OrderItem[]; amount?: number; reason?: string };
    switch (event.type) {
      case 'OrderPlaced':
        return { status: 'placed', items: d.items ?? [], amount: d.amount ?? 0 };
      case 'OrderConfirmed':
        return { ...state, status: 'confirmed' };
      case 'OrderRejected':
        return { ...state, status: 'rejected', reason: d.reason ?? '' };
      default:
        return state;
    }
  },
};
