/** The raw rows use Tessera's own id generator, so they measure the database, not id generation. */
export { uuidV7 as pooledUuidV7 } from '../src/support/ids.js';
