/**
 * The replication subpath: leader-follower replica sets over PostgreSQL streaming replication (per-call
 * consistency levels, lag monitoring, failover follow), log-shipping followers and replica verification.
 *
 * @example
 * ```ts
 * import { openReplicaSet, openLogShippingFollower, verifyReplica } from 'tessera/replication';
 * ```
 * @module
 */
export { openLogShippingFollower, type CatchUpResult, type LogShippingFollower, type LogShippingFollowerOptions } from './follower.js';
export type { FollowerCheckpoint, FollowerTarget } from './follower-target.js';
export { canonicalJson, verifyReplica, type Divergence, type VerifiedField, type VerifyOptions, type VerifyReport } from './verify.js';
export { openReplicaSet, ReplicaSet, type ReplicaAppendResult } from './replica-set.js';
export { ReplicaSession } from './session.js';
export type { ConsistencyLevel, ReadConsistency, ReplicaConfig, ReplicaSetOptions } from './options.js';
export type { ReadCounters, ReplicaSetStatus, ReplicaStatus, RotationPolicy } from './status.js';
export type { LagPoint } from './membership.js';
export { decodeSessionToken, encodeSessionToken, formatLsn, parseLsn } from './lsn.js';
export { registerReplicaSetMetrics } from './metrics.js';
