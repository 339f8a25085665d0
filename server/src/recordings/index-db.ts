/**
 * The recordings index: one SQLite table (Node 22's built-in `node:sqlite`, no native npm
 * dependency) of segments and clips. It is a cache of what is on disk — the files are the truth;
 * {@link RecordingService} reconciles the two at start-up and keeps them in step — so the
 * database file may be deleted at any time and is rebuilt from the media folder.
 *
 * WAL journal with `synchronous=NORMAL`: a killed process never leaves a corrupt database; a
 * power cut may lose the last transactions, which the next start-up scan puts back.
 */
import type { SQLInputValue } from 'node:sqlite';
import type { RecordingType, SegmentKindName } from '../contract/index.js';
import { openDatabase, whereClause } from '../sqlite.js';

export type SegmentKind = SegmentKindName;
/** open: a segment being written or a clip being recorded; complete: a finished file. */
export type RecordingState = 'open' | 'complete';

export interface RecordingRow {
  id: number;
  type: RecordingType;
  camera: string;
  /** Relative to the media dir; null while a clip is still being recorded. */
  path: string | null;
  startMs: number;
  endMs: number;
  size: number;
  protected: boolean;
  /** Clips: what started it (`api`, `mqtt`, `node-red`…). */
  trigger: string | null;
  /** Segments: recorded 24/7 or for the pre-roll buffer. */
  kind: SegmentKind | null;
  state: RecordingState;
  /** Clips: when the clip was requested (the pre-roll is counted back from here). */
  requestedMs: number | null;
  expiringNotified: boolean;
  createdMs: number;
}

export type NewRecording = Omit<RecordingRow, 'id' | 'expiringNotified' | 'createdMs'> & { createdMs?: number };

export interface ListFilter {
  camera?: string;
  type?: RecordingType;
  protected?: boolean;
  /** Recordings that end after this time. */
  fromMs?: number;
  /** Recordings that start before this time. */
  toMs?: number;
  state?: RecordingState;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

interface DbRow {
  id: number;
  type: string;
  camera: string;
  path: string | null;
  start_ms: number;
  end_ms: number;
  size: number;
  protected: number;
  trigger: string | null;
  kind: string | null;
  state: string;
  requested_ms: number | null;
  expiring_notified: number;
  created_ms: number;
}

const SCHEMA_VERSION = 1;

function toRow(r: DbRow): RecordingRow {
  return {
    id: r.id,
    type: r.type as RecordingType,
    camera: r.camera,
    path: r.path,
    startMs: r.start_ms,
    endMs: r.end_ms,
    size: r.size,
    protected: r.protected === 1,
    trigger: r.trigger,
    kind: r.kind as SegmentKind | null,
    state: r.state as RecordingState,
    requestedMs: r.requested_ms,
    expiringNotified: r.expiring_notified === 1,
    createdMs: r.created_ms,
  };
}

const COLUMNS: Record<keyof Omit<RecordingRow, 'id'>, string> = {
  type: 'type',
  camera: 'camera',
  path: 'path',
  startMs: 'start_ms',
  endMs: 'end_ms',
  size: 'size',
  protected: 'protected',
  trigger: 'trigger',
  kind: 'kind',
  state: 'state',
  requestedMs: 'requested_ms',
  expiringNotified: 'expiring_notified',
  createdMs: 'created_ms',
};

function sqlValue(v: unknown): SQLInputValue {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined) return null;
  return v as SQLInputValue;
}

export class RecordingIndex {
  readonly #db: ReturnType<typeof openDatabase>['db'];
  /** True when the database did not exist (or had no table) before: everything comes from disk. */
  readonly fresh: boolean;

  constructor(file: string) {
    const opened = openDatabase(file, 'recordings index', SCHEMA_VERSION);
    this.#db = opened.db;
    this.fresh = opened.version === 0;
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS recordings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL CHECK (type IN ('segment', 'clip')),
        camera TEXT NOT NULL,
        path TEXT UNIQUE,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        protected INTEGER NOT NULL DEFAULT 0,
        trigger TEXT,
        kind TEXT,
        state TEXT NOT NULL CHECK (state IN ('open', 'complete')),
        requested_ms INTEGER,
        expiring_notified INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS recordings_camera_start ON recordings (camera, start_ms);
      CREATE INDEX IF NOT EXISTS recordings_start ON recordings (start_ms);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  insert(rec: NewRecording): RecordingRow {
    const createdMs = rec.createdMs ?? Date.now();
    const result = this.#db
      .prepare(
        `INSERT INTO recordings (type, camera, path, start_ms, end_ms, size, protected, trigger, kind, state,
           requested_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rec.type,
        rec.camera,
        rec.path,
        Math.round(rec.startMs),
        Math.round(rec.endMs),
        rec.size,
        rec.protected ? 1 : 0,
        rec.trigger,
        rec.kind,
        rec.state,
        rec.requestedMs,
        createdMs,
      );
    const row = this.get(Number(result.lastInsertRowid));
    if (row === undefined) throw new Error('inserted recording vanished');
    return row;
  }

  get(id: number): RecordingRow | undefined {
    const r = this.#db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as DbRow | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  getByPath(path: string): RecordingRow | undefined {
    const r = this.#db.prepare('SELECT * FROM recordings WHERE path = ?').get(path) as DbRow | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  update(id: number, changes: Partial<Omit<RecordingRow, 'id'>>): void {
    const keys = Object.keys(changes) as (keyof typeof COLUMNS)[];
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${COLUMNS[k]} = ?`).join(', ');
    const values = keys.map((k) => {
      const v = changes[k];
      return sqlValue(k === 'startMs' || k === 'endMs' ? Math.round(v as number) : v);
    });
    this.#db.prepare(`UPDATE recordings SET ${sets} WHERE id = ?`).run(...values, id);
  }

  delete(id: number): void {
    this.#db.prepare('DELETE FROM recordings WHERE id = ?').run(id);
  }

  #where(f: ListFilter): { sql: string; args: SQLInputValue[] } {
    return whereClause([
      ['camera = ?', f.camera],
      ['type = ?', f.type],
      ['protected = ?', f.protected === undefined ? undefined : f.protected ? 1 : 0],
      ['state = ?', f.state],
      ['end_ms > ?', f.fromMs === undefined ? undefined : Math.floor(f.fromMs)],
      ['start_ms < ?', f.toMs === undefined ? undefined : Math.ceil(f.toMs)],
    ]);
  }

  list(f: ListFilter = {}): RecordingRow[] {
    const { sql, args } = this.#where(f);
    const order = f.order === 'desc' ? 'DESC' : 'ASC';
    const limit = f.limit ?? -1;
    const offset = f.offset ?? 0;
    const rows = this.#db
      .prepare(`SELECT * FROM recordings ${sql} ORDER BY start_ms ${order}, id ${order} LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as unknown as DbRow[];
    return rows.map(toRow);
  }

  count(f: ListFilter = {}): number {
    const { sql, args } = this.#where(f);
    return (this.#db.prepare(`SELECT COUNT(*) AS n FROM recordings ${sql}`).get(...args) as { n: number }).n;
  }

  /** Bytes of every indexed file. */
  totalSize(): number {
    return (this.#db.prepare('SELECT COALESCE(SUM(size), 0) AS s FROM recordings').get() as { s: number }).s;
  }

  /** Bytes (all, and protected) and number of recordings per camera, cameras in name order. */
  usageByCamera(): {
    camera: string;
    bytes: number;
    protectedBytes: number;
    clipBytes: number;
    recordings: number;
    clips: number;
  }[] {
    return this.#db
      .prepare(
        `SELECT camera, COALESCE(SUM(size), 0) AS bytes,
           COALESCE(SUM(CASE WHEN protected = 1 THEN size ELSE 0 END), 0) AS protectedBytes,
           COALESCE(SUM(CASE WHEN protected = 0 AND type = 'clip' THEN size ELSE 0 END), 0) AS clipBytes,
           COUNT(*) AS recordings, SUM(CASE WHEN type = 'clip' THEN 1 ELSE 0 END) AS clips
         FROM recordings GROUP BY camera ORDER BY camera`,
      )
      .all() as unknown as {
      camera: string;
      bytes: number;
      protectedBytes: number;
      clipBytes: number;
      recordings: number;
      clips: number;
    }[];
  }

  /** Runs `fn` in one transaction (rolled back if it throws). */
  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }
}
