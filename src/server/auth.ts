import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AdminTokenRequiredError, UnsafeBindError } from '../errors.js';

/**
 * A Fastify `preHandler` for admin routes: passes only with `Authorization: Bearer <token>` matching the
 * configured token (compared in constant time); without a configured token, admin routes are closed.
 *
 * @example
 * ```ts
 * app.post('/api/projections/:name/rebuild', { preHandler: requireAdmin(token) }, handler);
 * ```
 */
export function requireAdmin(token: string | undefined) {
  const expected = token === undefined ? undefined : Buffer.from(token);
  return async (req: FastifyRequest): Promise<void> => {
    if (expected === undefined) throw new AdminTokenRequiredError(false);
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = Buffer.from(match?.[1] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AdminTokenRequiredError(true);
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Refuses (with {@link UnsafeBindError}) to listen beyond loopback without an admin token.
 *
 * @example
 * ```ts
 * assertSafeBind(host, process.env.TESSERA_ADMIN_TOKEN);
 * ```
 */
export function assertSafeBind(host: string, adminToken: string | undefined): void {
  if (!isLoopback(host) && (adminToken === undefined || adminToken.length === 0)) throw new UnsafeBindError(host);
}
