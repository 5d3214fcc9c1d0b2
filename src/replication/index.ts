/**
 * The replication subpath: log-shipping followers and replica verification (leader-follower replica sets
 * over PostgreSQL streaming replication are added beside them).
 *
 * @example
 * ```ts
 * import { openLogShippingFollower, verifyReplica } from 'tessera/replication';
 * ```
 * @module
 */
export { openLogShippingFollower, type CatchUpResult, type LogShippingFollower, type LogShippingFollowerOptions } from './follower.js';
export type { FollowerCheckpoint, FollowerTarget } from './follower-target.js';
export { canonicalJson, verifyReplica, type Divergence, type VerifiedField, type VerifyOptions, type VerifyReport } from './verify.js';
