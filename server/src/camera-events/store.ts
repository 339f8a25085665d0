/**
 * The camera events: one SQLite table (`events.db` under the data folder). Unlike the recordings
 * index, nothing else holds these facts, so the file is kept, and rows are deleted with the
 * retention of clips (an event outlives its clip by nothing: its picture and its place on the
 * timeline go with it).
 */
import type { DetectionSource, DetectionType } from '../contract/index.js';
import { openDatabase, whereClause } from '../sqlite.js';

export interface CameraEventRow {
  id: number;
  camera: string;
  type: DetectionType;
  source: DetectionSource;
  startMs: number;
  /** null while it lasts. */
  endMs: number | null;
  /** Recording id of the clip it started or extended (`clip_7`). */
  clipId: string | null;
  /** Relative to the media folder, once the picture of the moment is taken. */
  picturePath: string | null;
  detail: string | null;
}

export interface EventFilter {
  camera?: string | undefined;
  type?: DetectionType | undefined;
  /** Events that end after this time (or still last). */
  fromMs?: number | undefined;
  /** Events that start before this time. */
  toMs?: number | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

interface DbRow {
  id: number;
  camera: string;
  type: string;
  source: string;
  start_ms: number;
  end_ms: number | null;
  clip_id: string | null;
  picture_path: string | null;
  detail: string | null;
}

const SCHEMA_VERSION = 1;

function toRow(r: DbRow): CameraEventRow {
  return {
    id: r.id,
    camera: r.camera,
    type: r.type as DetectionType,
    source: r.source as DetectionSource,
    startMs: r.start_ms,
    endMs: r.end_ms,
    clipId: r.clip_id,
    picturePath: r.picture_path,
    detail: r.detail,
  };
}

export class CameraEventStore {
  readonly #db: ReturnType<typeof openDatabase>['db'];

  constructor(file: string) {
    this.#db = openDatabase(file, 'events database', SCHEMA_VERSION).db;
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS camera_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        camera TEXT NOT NULL,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        clip_id TEXT,
        picture_path TEXT,
        detail TEXT
      );
      CREATE INDEX IF NOT EXISTS camera_events_camera_start ON camera_events (camera, start_ms);
      CREATE INDEX IF NOT EXISTS camera_events_start ON camera_events (start_ms);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  insert(e: Omit<CameraEventRow, 'id'>): CameraEventRow {
    const result = this.#db
      .prepare(
        `INSERT INTO camera_events (camera, type, source, start_ms, end_ms, clip_id, picture_path, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.camera, e.type, e.source, Math.round(e.startMs), e.endMs, e.clipId, e.picturePath, e.detail);
    const row = this.get(Number(result.lastInsertRowid));
    if (row === undefined) throw new Error('inserted event vanished');
    return row;
  }

  get(id: number): CameraEventRow | undefined {
    const r = this.#db.prepare('SELECT * FROM camera_events WHERE id = ?').get(id) as DbRow | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  end(id: number, endMs: number): void {
    this.#db.prepare('UPDATE camera_events SET end_ms = ? WHERE id = ? AND end_ms IS NULL').run(Math.round(endMs), id);
  }

  setClip(id: number, clipId: string): void {
    this.#db.prepare('UPDATE camera_events SET clip_id = ? WHERE id = ?').run(clipId, id);
  }

  setPicture(id: number, picturePath: string): void {
    this.#db.prepare('UPDATE camera_events SET picture_path = ? WHERE id = ?').run(picturePath, id);
  }

  /** Every camera with the event types it has reported. */
  typesByCamera(): Map<string, Set<DetectionType>> {
    const rows = this.#db.prepare('SELECT DISTINCT camera, type FROM camera_events').all() as unknown as {
      camera: string;
      type: string;
    }[];
    const out = new Map<string, Set<DetectionType>>();
    for (const r of rows) {
      if (!out.has(r.camera)) out.set(r.camera, new Set());
      out.get(r.camera)?.add(r.type as DetectionType);
    }
    return out;
  }

  /** Events still open (after a restart: ended at start-up, their end unknown). */
  open(): CameraEventRow[] {
    return (this.#db.prepare('SELECT * FROM camera_events WHERE end_ms IS NULL').all() as unknown as DbRow[]).map(
      toRow,
    );
  }

  list(f: EventFilter = {}): { rows: CameraEventRow[]; total: number } {
    const { sql: clause, args } = whereClause([
      ['camera = ?', f.camera],
      ['type = ?', f.type],
      ['(end_ms IS NULL OR end_ms >= ?)', f.fromMs],
      ['start_ms <= ?', f.toMs],
    ]);
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n FROM camera_events ${clause}`).get(...args) as { n: number })
      .n;
    const order = f.order === 'asc' ? 'ASC' : 'DESC';
    const rows = this.#db
      .prepare(`SELECT * FROM camera_events ${clause} ORDER BY start_ms ${order}, id ${order} LIMIT ? OFFSET ?`)
      .all(...args, f.limit ?? 100, f.offset ?? 0) as unknown as DbRow[];
    return { rows: rows.map(toRow), total };
  }

  /** Deletes a camera's events that ended before `beforeMs`; returns them (their pictures go too). */
  deleteEndedBefore(camera: string, beforeMs: number): CameraEventRow[] {
    const where = 'WHERE camera = ? AND end_ms IS NOT NULL AND end_ms < ?';
    const rows = (
      this.#db.prepare(`SELECT * FROM camera_events ${where}`).all(camera, beforeMs) as unknown as DbRow[]
    ).map(toRow);
    this.#db.prepare(`DELETE FROM camera_events ${where}`).run(camera, beforeMs);
    return rows;
  }

  /** Deletes every event of a camera (the camera was removed with its recordings). */
  deleteCamera(camera: string): CameraEventRow[] {
    const rows = (
      this.#db.prepare('SELECT * FROM camera_events WHERE camera = ?').all(camera) as unknown as DbRow[]
    ).map(toRow);
    this.#db.prepare('DELETE FROM camera_events WHERE camera = ?').run(camera);
    return rows;
  }
}
