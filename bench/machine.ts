import { cpus, release, totalmem, type } from 'node:os';
import Database from 'better-sqlite3';
import sqlite3 from 'sqlite3';
import type { MachineInfo } from './types.js';

/** What the figures were measured on. */
export function machineInfo(postgres: string | null): MachineInfo {
  const db = new Database(':memory:');
  const sqlite = String(db.prepare('SELECT sqlite_version()').pluck().get());
  db.close();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    sqlite: `${sqlite} (better-sqlite3)`,
    sqliteEmmett: `${sqlite3.VERSION} (node-sqlite3, Emmett)`,
    postgres: postgres ?? 'not reachable',
  };
}
