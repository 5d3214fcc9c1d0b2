/** Shared shapes of the benchmark harness. */

export type Engine = 'sqlite' | 'postgres';
export type Kind = 'tessera' | 'emmett' | 'raw';
export type WorkloadId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

/** One open subject under test (a store, or the raw driver doing the minimum an event store must do). */
export interface Target {
  /** One event to a stream that does not exist yet. */
  appendNew(streamId: string): Promise<void>;
  /** One event to `streamId` whose current version is `expected` (0n: the stream does not exist). */
  appendExpected(streamId: string, expected: bigint): Promise<void>;
  /** `count` events in one append to a new stream. */
  appendBatch(streamId: string, count: number): Promise<void>;
  /** Reads the whole stream with parsed payloads; returns how many events came back. */
  read(streamId: string): Promise<number>;
  /** Anything the table should say about this row's run (e.g. retried calls). */
  note?(): string | undefined;
  close(): Promise<void>;
}

/** A row of the result tables: how to open a fresh target for it. */
export interface RowSpec {
  id: string;
  label: string;
  engine: Engine;
  kind: Kind;
  /** SQLite `synchronous` setting (for the ratio against raw at the same durability). */
  durability?: 'FULL' | 'NORMAL';
  /** Opens a target on a fresh file or database. */
  open(): Promise<Target>;
  /** Set when the row cannot run here (the reason is printed instead of figures). */
  unavailable?: string;
  /** Workloads this row skips (e.g. NORMAL rows are not repeated for reads). */
  skip?: WorkloadId[];
}

/** Sizes of one run. */
export interface Sizes {
  name: 'full' | 'quick' | 'smoke';
  reps: number;
  singleAppends: number;
  batchSize: number;
  batchesPerRep: number;
  readStreamLength: number;
  readsPerRep: number;
  concurrentWriters: number;
  concurrentAppends: number;
  streamAllEvents: number;
  streamAllReps: number;
  warmupAppends: number;
}

/** Measured figures of one row in one workload. */
export interface RowResult {
  row: string;
  label: string;
  engine: Engine;
  kind: Kind;
  durability?: 'FULL' | 'NORMAL';
  /** events/s of each repetition */
  samples: number[];
  median: number | null;
  min: number | null;
  /** median / the reference Emmett row's median */
  vsEmmett: number | null;
  /** median / the raw row's median at the same durability */
  vsRaw: number | null;
  peakRssMb?: number;
  baselineRssMb?: number;
  note?: string;
}

export interface WorkloadResult {
  id: WorkloadId;
  title: string;
  rows: RowResult[];
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  sqlite: string;
  sqliteEmmett: string;
  postgres: string;
}

export interface BenchResult {
  startedAt: string;
  sizes: Sizes;
  machine: MachineInfo;
  workloads: WorkloadResult[];
  targets: TargetCheck[];
}

export interface TargetCheck {
  name: string;
  goal: string;
  measured: string;
  holds: boolean | null;
  /** The physical floor measured in the same run, for targets it caps (e.g. "raw + unique event id 0.69x"). */
  floor?: string;
}
