import type { SagaInstance, SagaStatus, SagaStepRecord, StepContext } from './types.js';

/** A saga instance row, decoded (BIGINT columns arrive as bigint or string from PostgreSQL). */
export interface InstanceRow {
  sagaId: string;
  sagaType: string;
  version: number;
  status: SagaStatus;
  input: string;
  nextStep: number;
  undoOutcome: 'compensated' | 'cancelled' | null;
  cancelRequested: boolean;
  wakeAt: number | null;
  timerAt: number | null;
  deadlineAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  fence: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A step log row, decoded. */
export interface StepRow {
  stepNo: number;
  phase: 'do' | 'undo';
  name: string;
  state: 'started' | 'succeeded' | 'failed';
  attempts: number;
  budgetFrom: number;
  uncertain: boolean;
  output: string | null;
  error: string | null;
  startedAt: number;
  endedAt: number | null;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** Decodes a `SELECT *` / `RETURNING *` row of the instances table. */
export function decodeInstance(r: Record<string, unknown>): InstanceRow {
  return {
    sagaId: String(r.saga_id),
    sagaType: String(r.saga_type),
    version: num(r.def_version),
    status: String(r.status) as SagaStatus,
    input: String(r.input),
    nextStep: num(r.next_step),
    undoOutcome: strOrNull(r.undo_outcome) as InstanceRow['undoOutcome'],
    cancelRequested: num(r.cancel_requested) !== 0,
    wakeAt: numOrNull(r.wake_at),
    timerAt: numOrNull(r.timer_at),
    deadlineAt: numOrNull(r.deadline_at),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: numOrNull(r.lease_until),
    fence: num(r.fence),
    error: strOrNull(r.error),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** Decodes a row of the steps table. */
export function decodeStep(r: Record<string, unknown>): StepRow {
  return {
    stepNo: num(r.step_no),
    phase: String(r.phase) as StepRow['phase'],
    name: String(r.name),
    state: String(r.state) as StepRow['state'],
    attempts: num(r.attempts),
    budgetFrom: num(r.budget_from),
    uncertain: num(r.uncertain) !== 0,
    output: strOrNull(r.output),
    error: strOrNull(r.error),
    startedAt: num(r.started_at),
    endedAt: numOrNull(r.ended_at),
  };
}

/** The key of a step row in a map: `stepNo:phase`. */
export function stepKey(stepNo: number, phase: 'do' | 'undo'): string {
  return `${stepNo}:${phase}`;
}

function parse(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

/** Outputs of the forward steps that succeeded, by step name. */
export function outputsOf(steps: Iterable<StepRow>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of steps) if (s.phase === 'do' && s.state === 'succeeded') out[s.name] = parse(s.output);
  return out;
}

/** The public view of an instance: forward rows in step order, then undo rows in the order they ran. */
export function toSagaInstance(row: InstanceRow, steps: StepRow[]): SagaInstance {
  const forward = steps.filter((s) => s.phase === 'do').sort((a, b) => a.stepNo - b.stepNo);
  const backward = steps.filter((s) => s.phase === 'undo').sort((a, b) => b.stepNo - a.stepNo);
  const records: SagaStepRecord[] = [...forward, ...backward].map((s) => {
    const rec: SagaStepRecord = { name: s.name, phase: s.phase, state: s.state, attempts: s.attempts };
    if (s.error !== null) rec.error = s.error;
    return rec;
  });
  const instance: SagaInstance = {
    id: row.sagaId,
    name: row.sagaType,
    version: row.version,
    status: row.status,
    input: JSON.parse(row.input),
    outputs: outputsOf(steps),
    steps: records,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
  if (row.error !== null) instance.error = row.error;
  return instance;
}

/** The context a step's action or compensation gets (earlier steps' outputs from `steps`). */
export function stepContext(
  row: InstanceRow, steps: Iterable<StepRow>, stepNo: number, phase: 'do' | 'undo', attempt: StepRow, signal: { readonly signal: AbortSignal }, signalPayload?: string | null,
): StepContext<unknown> {
  // Input and outputs are parsed when a step first reads them (each context its own copy, as before).
  const done = Array.from(steps);
  let input: { value: unknown } | undefined;
  let outputs: Record<string, unknown> | undefined;
  const ctx: { -readonly [K in keyof StepContext<unknown>]: StepContext<unknown>[K] } = {
    sagaId: row.sagaId,
    get input() {
      return (input ??= { value: JSON.parse(row.input) }).value;
    },
    set input(value: unknown) {
      input = { value };
    },
    get outputs() {
      return (outputs ??= outputsOf(done));
    },
    set outputs(value: Record<string, unknown>) {
      outputs = value;
    },
    idempotencyKey: `${row.sagaId}:${stepNo}:${phase}`,
    attempt: attempt.attempts - attempt.budgetFrom,
    // Read through: the invocation makes its AbortSignal only for a step that asks for it.
    get signal() {
      return signal.signal;
    },
  };
  if (signalPayload !== undefined) ctx.signalPayload = signalPayload === null ? null : JSON.parse(signalPayload);
  return ctx;
}
