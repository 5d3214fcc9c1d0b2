import { assertSafeBind } from './auth.js';
import type { TesseraApp } from './context.js';

/**
 * Starts listening (127.0.0.1:3000 by default) and returns the base URL. Refuses a non-loopback host unless an
 * admin token is set, so the service is never exposed with open admin routes.
 *
 * @example
 * ```ts
 * const url = await listenService(app, { port: 0, adminToken: process.env.TESSERA_ADMIN_TOKEN });
 * console.log(`dashboard: ${url}/dashboard/`);
 * ```
 */
export async function listenService(app: TesseraApp, o: { host?: string; port?: number; adminToken?: string } = {}): Promise<string> {
  const host = o.host ?? '127.0.0.1';
  assertSafeBind(host, o.adminToken);
  await app.listen({ host, port: o.port ?? 3000 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (o.port ?? 3000);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
