/**
 * Camera events as first-class data: each report from the camera (ONVIF), Camstack's motion
 * detector or the API becomes an event row (start, end) that is stored, published on the bus
 * (`camera.event`: SSE, MQTT, Node-RED, Home Assistant), recorded as a clip with pre-roll by the
 * camera's rules (overlapping events extend one clip), given the picture of the moment it started
 * (the recorded frame at that time, not the live stream's next keyframe) and, by the rules,
 * notified. Emits `camera.event`; calls the recordings (clips, frames), the snapshots (a live
 * picture when nothing is recorded) and a notifier through narrow interfaces.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CameraEventView, DetectionSource, DetectionType } from '../contract/index.js';
import { DomainError } from '../domain-errors.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import { type ClipState, clipOnEvent, DETECTION_TYPES, type EventRules, keepAliveMs, notifyOnEvent } from './rules.js';
import type { CameraEventRow, CameraEventStore, EventFilter } from './store.js';

/** An event as a source reports it: it starts, or it ends. */
export interface EventReport {
  camera: string;
  type: DetectionType;
  state: 'start' | 'end';
  source: DetectionSource;
  /** When it happened (ms); default now. A report from the future or far past is taken as now. */
  atMs?: number | undefined;
  /** The source's own name for it (an ONVIF topic). */
  detail?: string | null | undefined;
}

/** An event with its picture, told to Home Assistant (its bus, and notify when `notify`). */
export interface EventAnnouncement {
  event: CameraEventView;
  cameraName: string;
  /** The picture of the moment, relative to the media folder, when taken. */
  picturePath: string | null;
  /** The camera's rules say this one notifies (its type, and the camera's notify cooldown). */
  notify: boolean;
}

export interface CameraEventDeps {
  store: CameraEventStore;
  bus: EventBus;
  logger: Logger;
  mediaDir: string;
  /** The camera's rules, or null when the camera is not configured (its reports are refused). */
  rules: (camera: string) => EventRules | null;
  /** Cameras and how many days their events are kept (with their clips: `clipRetainDays`). */
  retention: () => readonly { camera: string; days: number }[];
  cameraName: (camera: string) => string;
  clips: {
    start(
      camera: string,
      request: { preRoll?: number | undefined; duration: number; trigger: string },
    ): Promise<{ clip: { id: string; end: string } }>;
  };
  /** The recorded frame at a moment, or null when nothing recorded holds it yet. */
  frameAt: (camera: string, atMs: number) => Promise<Buffer | null>;
  /** A live picture, when the camera keeps no recording to take the moment from. */
  liveFrame: (camera: string) => Promise<Buffer | null>;
  /** Told once per event, when its picture is taken or could not be (Home Assistant). */
  announce?: ((a: EventAnnouncement) => Promise<void>) | undefined;
  /** How long an event with no end report lasts at most. Default 10 min. */
  maxEventMs?: number;
  /** How long to look for the recorded frame before taking a live one. Default 6 s. */
  pictureWaitMs?: number;
  /** How often old events are deleted. Default hourly. */
  cleanupIntervalMs?: number;
  now?: () => number;
}

interface Active {
  row: CameraEventRow;
  keepAlive: ReturnType<typeof setInterval> | null;
  expire: ReturnType<typeof setTimeout>;
}

const activeKey = (camera: string, type: DetectionType, source: DetectionSource) => `${camera}/${type}/${source}`;

export class CameraEvents {
  readonly #d: CameraEventDeps;
  readonly #active = new Map<string, Active>();
  /** Per camera: the event clip now open (its planned end), for the cooldown and the merging. */
  readonly #clipEnd = new Map<string, number>();
  readonly #lastNotified = new Map<string, number>();
  readonly #pending = new Set<Promise<unknown>>();
  #stopped = false;
  /** Per camera, the event types it has ever reported (loaded once, then kept). */
  #types: Map<string, Set<DetectionType>> | null = null;
  #cleanup: ReturnType<typeof setInterval> | null = null;

  constructor(deps: CameraEventDeps) {
    this.#d = deps;
  }

  #now(): number {
    return this.#d.now?.() ?? Date.now();
  }

  /** Events a crash left open are ended at start-up, their end unknown: at their start. */
  start(): void {
    for (const row of this.#d.store.open()) this.#d.store.end(row.id, row.startMs);
    this.#cleanup = setInterval(() => this.#track(this.cleanupNow()), this.#d.cleanupIntervalMs ?? 3_600_000);
    this.#cleanup.unref();
    this.#track(this.cleanupNow());
  }

  /** Deletes the events (and their pictures) of every camera older than its retention. */
  async cleanupNow(): Promise<number> {
    let deleted = 0;
    const now = this.#now();
    for (const { camera, days } of this.#d.retention()) {
      deleted += await this.deleteEndedBefore(camera, now - days * 86_400_000);
    }
    return deleted;
  }

  /** Ends every lasting event and waits for pictures and notifications under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#cleanup) clearInterval(this.#cleanup);
    for (const a of [...this.#active.values()]) this.#finish(a, this.#now(), false);
    await Promise.allSettled([...this.#pending]);
  }

  view(row: CameraEventRow): CameraEventView {
    const id = `evt_${row.id}`;
    return {
      id,
      camera: row.camera,
      type: row.type,
      source: row.source,
      start: new Date(row.startMs).toISOString(),
      end: row.endMs === null ? null : new Date(row.endMs).toISOString(),
      active: row.endMs === null,
      clipId: row.clipId,
      pictureUrl: row.picturePath === null ? null : `/api/camera-events/${id}/picture.jpg`,
      detail: row.detail,
    };
  }

  list(filter: EventFilter): { items: CameraEventView[]; total: number } {
    const { rows, total } = this.#d.store.list(filter);
    return { items: rows.map((r) => this.view(r)), total };
  }

  #row(eid: string): CameraEventRow {
    const m = /^evt_(\d{1,15})$/.exec(eid);
    const row = m ? this.#d.store.get(Number(m[1])) : undefined;
    if (row === undefined) throw new DomainError('not_found', 'event_not_found', `no event ${eid}`);
    return row;
  }

  get(eid: string): CameraEventView {
    return this.view(this.#row(eid));
  }

  /** The picture of the moment: its path under the media folder, or a not-found error. */
  picture(eid: string): string {
    const row = this.#row(eid);
    if (row.picturePath === null) {
      throw new DomainError('not_found', 'no_picture', `event ${eid} has no picture (yet)`);
    }
    return join(this.#d.mediaDir, row.picturePath);
  }

  /** The event types a camera has reported (what gets entities in Home Assistant), in a stable order. */
  types(camera: string): DetectionType[] {
    this.#types ??= this.#d.store.typesByCamera();
    const seen = this.#types.get(camera);
    return seen ? DETECTION_TYPES.filter((t) => seen.has(t)) : [];
  }

  /** Active events of a camera, by type (what the binary sensors show). */
  activeTypes(camera: string): DetectionType[] {
    return [...new Set([...this.#active.values()].filter((a) => a.row.camera === camera).map((a) => a.row.type))];
  }

  /**
   * Takes a report. A start while the same camera, type and source already has an open event is
   * the same event (sources repeat themselves); an end with no open event is ignored. Returns the
   * event, or null when the report changed nothing.
   */
  report(r: EventReport): CameraEventView | null {
    if (this.#stopped) return null;
    const rules = this.#d.rules(r.camera);
    if (rules === null) throw new DomainError('not_found', 'camera_not_found', `no camera ${r.camera}`);
    const now = this.#now();
    const at = r.atMs !== undefined && r.atMs <= now && r.atMs > now - 60_000 ? r.atMs : now;
    const key = activeKey(r.camera, r.type, r.source);
    const current = this.#active.get(key);
    if (r.state === 'end') {
      if (current === undefined) return null;
      return this.#finish(current, Math.max(at, current.row.startMs), true);
    }
    if (current !== undefined) return null;
    this.#types ??= this.#d.store.typesByCamera();
    if (!this.#types.has(r.camera)) this.#types.set(r.camera, new Set());
    this.#types.get(r.camera)?.add(r.type);
    const row = this.#d.store.insert({
      camera: r.camera,
      type: r.type,
      source: r.source,
      startMs: at,
      endMs: null,
      clipId: null,
      picturePath: null,
      detail: r.detail ?? null,
    });
    const active: Active = {
      row,
      keepAlive: null,
      expire: setTimeout(() => this.#finish(active, this.#now(), true), this.#d.maxEventMs ?? 600_000),
    };
    active.expire.unref();
    this.#active.set(key, active);
    const view = this.view(row);
    this.#d.logger.info({ camera: r.camera, type: r.type, source: r.source, event: view.id }, 'camera event started');
    this.#d.bus.emit('camera.event', view);
    this.#track(this.#recordClip(active, rules, true));
    this.#track(this.#pictureAndNotify(active.row.id, rules));
    return view;
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #finish(a: Active, endMs: number, extendClip: boolean): CameraEventView {
    const key = activeKey(a.row.camera, a.row.type, a.row.source);
    if (this.#active.get(key) === a) this.#active.delete(key);
    clearTimeout(a.expire);
    if (a.keepAlive) clearInterval(a.keepAlive);
    this.#d.store.end(a.row.id, endMs);
    const row = this.#d.store.get(a.row.id) ?? { ...a.row, endMs };
    const view = this.view(row);
    this.#d.logger.info({ camera: row.camera, type: row.type, event: view.id }, 'camera event ended');
    this.#d.bus.emit('camera.event', view);
    const rules = this.#d.rules(row.camera);
    // The post-roll counts from the end: one last extension of the clip.
    if (extendClip && rules && row.clipId !== null && !this.#stopped) this.#track(this.#recordClip(a, rules, false));
    return view;
  }

  async #recordClip(a: Active, rules: EventRules, first: boolean): Promise<void> {
    const camera = a.row.camera;
    const now = this.#now();
    const clipEnd = this.#clipEnd.get(camera) ?? null;
    const state: ClipState = { open: clipEnd !== null && clipEnd > now, lastEndMs: clipEnd };
    const decision = clipOnEvent(rules, a.row.type, state, now);
    if (decision.action === 'none') {
      if (first) this.#d.logger.debug({ camera, type: a.row.type, why: decision.reason }, 'event not recorded');
      return;
    }
    try {
      const started = await this.#d.clips.start(camera, {
        ...(decision.preRollSeconds === null ? {} : { preRoll: decision.preRollSeconds }),
        duration: decision.durationSeconds,
        trigger: `event-${a.row.type.replace(/_/g, '-')}`,
      });
      this.#clipEnd.set(camera, Date.parse(started.clip.end));
      if (a.row.clipId !== started.clip.id) {
        this.#d.store.setClip(a.row.id, started.clip.id);
        a.row = { ...a.row, clipId: started.clip.id };
        const current = this.#d.store.get(a.row.id);
        if (current) this.#d.bus.emit('camera.event', this.view(current));
      }
      if (first && this.#active.has(activeKey(camera, a.row.type, a.row.source))) {
        // While the event lasts its clip is kept open; its end adds the post-roll once more.
        a.keepAlive = setInterval(() => this.#track(this.#recordClip(a, rules, false)), keepAliveMs(rules));
        a.keepAlive.unref();
      }
    } catch (err) {
      this.#d.logger.warn({ camera, event: `evt_${a.row.id}`, err: String(err) }, 'the event clip could not start');
    }
  }

  async #pictureAndNotify(id: number, rules: EventRules): Promise<void> {
    const row = this.#d.store.get(id);
    if (row === undefined) return;
    let jpeg: Buffer | null = null;
    const deadline = this.#now() + (this.#d.pictureWaitMs ?? 6000);
    // MediaMTX writes 1 s parts: the one holding the moment is on disk about a second later.
    await sleep(1200);
    while (jpeg === null && !this.#stopped) {
      jpeg = await this.#d.frameAt(row.camera, row.startMs).catch(() => null);
      if (jpeg !== null || this.#now() >= deadline) break;
      await sleep(800);
    }
    if (jpeg === null && !this.#stopped) jpeg = await this.#d.liveFrame(row.camera).catch(() => null);
    let picturePath: string | null = null;
    if (jpeg !== null) {
      picturePath = await this.#writePicture(row, jpeg);
      if (picturePath !== null) {
        this.#d.store.setPicture(id, picturePath);
        const current = this.#d.store.get(id);
        if (current) this.#d.bus.emit('camera.event', this.view(current));
      }
    }
    if (this.#d.announce === undefined || this.#stopped) return;
    const now = this.#now();
    const notify = notifyOnEvent(rules, row.type, this.#lastNotified.get(row.camera) ?? null, now);
    if (notify) this.#lastNotified.set(row.camera, now);
    const current = this.#d.store.get(id) ?? row;
    await this.#d
      .announce({ event: this.view(current), cameraName: this.#d.cameraName(row.camera), picturePath, notify })
      .catch((err: unknown) =>
        this.#d.logger.warn(
          { camera: row.camera, event: `evt_${id}`, err: String(err) },
          'telling Home Assistant failed',
        ),
      );
  }

  async #writePicture(row: CameraEventRow, jpeg: Buffer): Promise<string | null> {
    const stamp = new Date(row.startMs).toISOString().replace(/[-:]/g, '').replace('.', '-').replace('Z', '');
    const rel = `${row.camera}/events/${row.camera}_${stamp}_evt${row.id}.jpg`;
    const path = join(this.#d.mediaDir, rel);
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, jpeg, { mode: 0o644 });
      await rename(tmp, path);
      return rel;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      this.#d.logger.warn({ camera: row.camera, err: String(err) }, 'the event picture could not be written');
      return null;
    }
  }

  /** Deletes events (and their pictures) that ended before `beforeMs` (clip retention). */
  async deleteEndedBefore(camera: string, beforeMs: number): Promise<number> {
    const gone = this.#d.store.deleteEndedBefore(camera, beforeMs);
    for (const row of gone) {
      if (row.picturePath !== null) await rm(join(this.#d.mediaDir, row.picturePath), { force: true });
    }
    return gone.length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
