import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRecorded } from '../cameras/engine-plan.js';
import type { RecordingView } from '../contract/index.js';
import { DomainError } from '../domain-errors.js';
import { syncDir } from '../fs-sync.js';
import { ClipRecorder } from './clip-recorder.js';
import { CLIP_FIRST_VIDEO_TIMEOUT_MS, noVideoReason, playbackClipEnd } from './clip-span.js';
import type { ActiveClip } from './clip-state.js';
import { exists, iso, message, type RecordingContext } from './context.js';
import type { Exporter } from './export.js';
import { probe, remuxFaststart } from './ffmpeg.js';
import type { RecordingRow } from './index-db.js';
import { MAX_CLIP_SECONDS, MAX_CLIP_TOTAL_MS, MAX_PRE_ROLL_SECONDS } from './limits.js';
import {
  absolutePath,
  CLIPS_DIR,
  clipFileName,
  clipRelPath,
  formatRid,
  markerRelPath,
  parseClipName,
  partRelPath,
  sanitizeTrigger,
} from './naming.js';
import { coveredUntil, type RecordedRun, runsWithin } from './playback.js';
import type { ClipRequest, ClipStartResult } from './types-public.js';

/**
 * Clips: started, extended, stopped and saved. A recorded camera's clip is cut from the recording
 * once its end is recorded; other cameras' clips are recorded by an FFmpeg reader (clip-recorder.ts).
 * Clips a crash interrupted are finished or recovered at the next start.
 */
export class Clips {
  readonly #c: RecordingContext;
  readonly #exporter: Exporter;
  readonly #recorder: ClipRecorder;

  constructor(c: RecordingContext, exporter: Exporter) {
    this.#c = c;
    this.#exporter = exporter;
    this.#recorder = new ClipRecorder(c, (clip) => this.finish(clip));
  }

  readonly active = new Map<string, ActiveClip>();

  readonly finishing = new Set<Promise<unknown>>();

  /** The open clip of a camera, if any. */
  openClip(cameraId: string): RecordingView | null {
    const clip = this.active.get(cameraId);
    const row = clip ? this.#c.index.get(clip.rowId) : undefined;
    return row ? this.#c.toView(row) : null;
  }

  /**
   * Starts a clip of `cameraId` that includes up to `preRoll` seconds before now and ends
   * `duration` seconds from now (auto-stop). A request while a clip of the camera is open extends
   * that clip instead. Throws a DomainError (not_found: unknown camera; conflict: disabled; invalid: bad numbers).
   */
  async startClip(cameraId: string, request: ClipRequest): Promise<ClipStartResult> {
    if (this.#c.stopped) throw new DomainError('unavailable', 'shutting_down', 'Camstack is shutting down');
    const camera = this.#c.camera(cameraId);
    const problems = [];
    const preRoll = request.preRoll ?? camera.recording.preRollSeconds;
    const duration = request.duration ?? camera.recording.clipSeconds;
    if (!Number.isInteger(preRoll) || preRoll < 0 || preRoll > MAX_PRE_ROLL_SECONDS) {
      problems.push({
        field: 'preRoll',
        message: `must be an integer from 0 to ${MAX_PRE_ROLL_SECONDS} (got ${preRoll})`,
      });
    }
    if (!Number.isInteger(duration) || duration < 1 || duration > MAX_CLIP_SECONDS) {
      problems.push({
        field: 'duration',
        message: `must be an integer from 1 to ${MAX_CLIP_SECONDS} (got ${duration})`,
      });
    }
    if (problems.length) throw new DomainError('invalid', 'validation_failed', 'invalid clip request', problems);
    if (!camera.enabled) {
      throw new DomainError('conflict', 'camera_disabled', `camera "${cameraId}" is disabled`, [
        { field: 'id', message: 'the camera is disabled' },
      ]);
    }
    const now = this.#c.now();
    const open = this.active.get(cameraId);
    if (open && open.finishing === null) {
      const wanted = now + duration * 1000;
      open.plannedEndMs = Math.max(open.plannedEndMs, wanted);
      open.endMs = Math.min(Math.max(open.endMs, wanted), open.startMs + MAX_CLIP_TOTAL_MS);
      this.#c.index.update(open.rowId, { endMs: open.endMs });
      const pin = this.#c.pins.get(open.rowId);
      if (pin) pin.endMs = open.endMs;
      this.#schedule(open);
      const row = this.#c.index.get(open.rowId);
      if (!row) throw new DomainError('internal', 'internal_error', 'open clip vanished from the index');
      return { clip: this.#c.toView(row), extended: true, preRollSeconds: (open.requestedMs - open.startMs) / 1000 };
    }
    const method = isRecorded(camera) ? 'playback' : 'ffmpeg';
    // A clip that just ended is still being saved: the new one starts where it ended at the
    // earliest, so the pre-roll does not copy the same seconds into two clips.
    const previousEnd = open?.finishing ? open.endMs : Number.NEGATIVE_INFINITY;
    const effectivePreRoll =
      method === 'playback' ? Math.max(0, Math.min(preRoll, Math.floor((now - previousEnd) / 1000))) : 0;
    const trigger = sanitizeTrigger(request.trigger);
    const startMs = now - effectivePreRoll * 1000;
    const endMs = now + duration * 1000;
    const rel = clipRelPath(cameraId, clipFileName(cameraId, startMs, trigger));
    const row = this.#c.index.insert({
      type: 'clip',
      camera: cameraId,
      path: rel,
      startMs,
      endMs,
      size: 0,
      protected: false,
      trigger,
      kind: null,
      state: 'open',
      requestedMs: now,
    });
    const clip: ActiveClip = {
      rowId: row.id,
      camera: cameraId,
      trigger,
      requestedMs: now,
      startMs,
      endMs,
      timer: null,
      method,
      proc: null,
      release: null,
      partRel: method === 'ffmpeg' ? partRelPath(rel) : null,
      plannedEndMs: endMs,
      rec:
        method === 'ffmpeg'
          ? {
              anchorMs: null,
              mediaStartMs: null,
              video: null,
              videoGrewAtMs: null,
              cursor: undefined,
              info: null,
              failReason: null,
              stoppedAtMs: null,
              withAudio: true,
              attempts: 0,
              keepVideoMs: null,
            }
          : null,
      finishing: null,
    };
    this.active.set(cameraId, clip);
    if (clip.partRel) this.#c.ownedParts.add(clip.partRel);
    this.#c.pins.set(row.id, { camera: cameraId, startMs, endMs });
    if (method === 'ffmpeg') {
      try {
        await this.#recorder.startRecorder(clip, camera);
        void this.#recorder.watchRecorder(clip, camera);
      } catch (err) {
        this.active.delete(cameraId);
        this.#c.pins.delete(row.id);
        this.#c.index.delete(row.id);
        throw new DomainError(
          'unavailable',
          'clip_failed',
          `could not start recording camera "${cameraId}": ${message(err)}`,
        );
      }
    }
    this.#schedule(clip);
    const view = this.#c.toView(row);
    this.#c.log.info({ camera: cameraId, clip: view.id, preRoll: effectivePreRoll, duration, trigger }, 'clip started');
    this.#c.o.bus.emit('clip.started', {
      id: view.id,
      camera: cameraId,
      start: iso(startMs),
      end: iso(endMs),
      requestedAt: iso(now),
      preRollSeconds: effectivePreRoll,
      trigger,
    });
    return { clip: view, extended: false, preRollSeconds: effectivePreRoll };
  }

  /** Ends the open clip of a camera now and resolves once it is saved. 404 when none is open. */
  stopClip(cameraId: string): Promise<RecordingView> {
    const clip = this.active.get(cameraId);
    if (!clip) {
      return Promise.reject(
        new DomainError('not_found', 'no_open_clip', `camera "${cameraId}" has no clip being recorded`, [
          { field: 'id', message: 'no open clip for this camera' },
        ]),
      );
    }
    if (clip.finishing) return clip.finishing;
    clip.endMs = Math.min(clip.endMs, this.#c.now());
    return this.finish(clip);
  }

  #schedule(clip: ActiveClip): void {
    if (clip.timer) clearTimeout(clip.timer);
    clip.timer = null;
    // An FFmpeg clip ends when its file holds the video it wants (#watchRecorder), not on a clock.
    if (clip.method === 'ffmpeg') return;
    clip.timer = setTimeout(
      () => {
        clip.timer = null;
        void this.finish(clip).catch(() => undefined);
      },
      Math.max(0, clip.endMs - this.#c.now()),
    );
    clip.timer.unref();
  }

  finish(clip: ActiveClip): Promise<RecordingView> {
    if (clip.finishing) return clip.finishing;
    if (clip.timer) clearTimeout(clip.timer);
    clip.timer = null;
    const done = this.#save(clip).finally(() => {
      if (this.active.get(clip.camera) === clip) this.active.delete(clip.camera);
      this.#c.pins.delete(clip.rowId);
      this.finishing.delete(done);
    });
    clip.finishing = done;
    this.finishing.add(done);
    done.catch(() => undefined);
    return done;
  }

  /** Records the rest, writes the clip file, indexes it; on failure drops the row and says why. */
  async #save(clip: ActiveClip): Promise<RecordingView> {
    const row = this.#c.index.get(clip.rowId);
    try {
      if (!row) throw new Error('the clip vanished from the index');
      const tmp = this.#c.tmpFile('.mp4');
      let startMs = clip.startMs;
      try {
        if (clip.method === 'ffmpeg') {
          if (clip.rec) clip.rec.stoppedAtMs = this.#c.now();
          try {
            await clip.proc?.stop();
          } finally {
            clip.release?.();
          }
          if (clip.partRel === null || clip.rec === null) throw new Error('no part file');
          const rec = clip.rec;
          // The recorder may have got more than asked for (what FFmpeg read while it probed the
          // stream comes at once; stopping it takes a moment): the clip keeps what it wants, from
          // the file's start to `wanted` after its first video.
          const keepMs =
            rec.keepVideoMs !== null && rec.video !== null && rec.mediaStartMs !== null
              ? Math.max(rec.video.startMs, rec.video.firstSampleEndMs) - rec.mediaStartMs + rec.keepVideoMs
              : undefined;
          try {
            await this.#remuxPart(
              join(this.#c.mediaDir, clip.partRel),
              tmp,
              keepMs === undefined ? undefined : keepMs / 1000,
            );
          } catch (err) {
            throw new Error(rec.failReason ?? message(err));
          }
          const probed = await probe(this.#c.o.ffprobe, tmp).catch(() => null);
          if (probed === null || !(probed.durationSeconds > 0) || probed.videoCodec === null) {
            throw new Error(rec.failReason ?? 'the clip has no video');
          }
          // From the media: where its file's time 0 was on the wall clock, or (no fragment was
          // seen before the recorder stopped) its media ending when the recorder was stopped.
          const stoppedAt = rec.stoppedAtMs ?? this.#c.now();
          startMs =
            rec.anchorMs !== null
              ? rec.anchorMs + (rec.mediaStartMs ?? 0)
              : stoppedAt - Math.round(probed.durationSeconds * 1000);
        } else {
          startMs = await this.#cutClip(clip, tmp);
        }
        const view = await this.#commitClip(row, tmp, startMs);
        // Committed: its part file must not outlive it (a scan would take it for a crash's leftover).
        await this.#dropPart(clip.partRel);
        return view;
      } finally {
        await rm(tmp, { force: true });
      }
    } catch (err) {
      const reason = message(err);
      this.#c.log.warn({ camera: clip.camera, clip: formatRid('clip', clip.rowId), reason }, 'clip failed');
      if (this.#c.index.get(clip.rowId)) this.#c.index.delete(clip.rowId);
      await this.#dropPart(clip.partRel);
      this.#c.o.bus.emit('clip.failed', {
        id: formatRid('clip', clip.rowId),
        camera: clip.camera,
        trigger: clip.trigger,
        reason,
      });
      throw new DomainError('failed', 'clip_failed', `the clip could not be saved: ${reason}`);
    }
  }

  /**
   * Waits until the recording reaches the clip's end (or stops growing), then cuts it. When the
   * camera was not being recorded at the request (reconnecting), the part after the request starts
   * with the first recording after it and still lasts as long as asked (see playbackClipEnd).
   */
  async #cutClip(clip: ActiveClip, out: string): Promise<number> {
    const { camera, startMs } = clip;
    const settle = this.#c.o.clipSettleMs ?? 15_000;
    const firstVideoTimeoutMs = this.#c.o.clipFirstVideoTimeoutMs ?? CLIP_FIRST_VIDEO_TIMEOUT_MS;
    let endMs = clip.endMs;
    let runs: RecordedRun[] = [];
    let lastUntil: number | null = null;
    let lastProgress = this.#c.now();
    for (;;) {
      runs = await this.#c.playback.list(camera, startMs - 1000).catch(() => []);
      // A clip ended early (stop, shutdown, a restart) keeps its end; otherwise it may move later.
      const onPlan = clip.endMs >= clip.plannedEndMs;
      if (onPlan) {
        endMs = Math.min(playbackClipEnd(runs, clip.requestedMs, clip.plannedEndMs), startMs + MAX_CLIP_TOTAL_MS);
        if (endMs !== clip.endMs) {
          clip.endMs = endMs;
          const pin = this.#c.pins.get(clip.rowId);
          if (pin) pin.endMs = endMs;
          this.#c.index.update(clip.rowId, { endMs });
        }
      }
      const until = coveredUntil(runs);
      if (until !== null && until >= endMs) break;
      const now = this.#c.now();
      if (until !== lastUntil) {
        lastUntil = until;
        lastProgress = now;
      }
      // Nothing recorded at all, long after the request: the camera is not delivering video.
      if (onPlan && runsWithin(runs, startMs, endMs).length === 0 && now - clip.requestedMs >= firstVideoTimeoutMs) {
        throw new Error(noVideoReason(firstVideoTimeoutMs));
      }
      // Give up waiting once the end is long past and nothing new arrives (camera offline…).
      if (now > endMs + settle || (now > endMs + 3000 && now - lastProgress > 8000)) break;
      await sleep(400);
    }
    const within = runsWithin(runs, startMs, endMs);
    const [first] = within;
    if (first === undefined) throw new Error('nothing was recorded during the clip (camera offline or not recorded?)');
    await this.#exporter.cutRuns(camera, within, out, false);
    return first.startMs;
  }

  async #remuxPart(partAbs: string, out: string, maxSeconds?: number): Promise<void> {
    const st = await stat(partAbs).catch(() => null);
    if (!st || st.size === 0) throw new Error('the clip recorder wrote nothing (camera offline?)');
    await remuxFaststart(this.#c.o.ffmpeg, partAbs, out, undefined, maxSeconds);
  }

  /** Moves a finished clip file into place under its final name and indexes it. */
  #commitClip(row: RecordingRow, tmp: string, startMs: number): Promise<RecordingView> {
    return this.#c.locked(async () => {
      const probed = await probe(this.#c.o.ffprobe, tmp);
      if (!(probed.durationSeconds > 0) || probed.videoCodec === null) throw new Error('the clip has no video');
      const durationMs = Math.round(probed.durationSeconds * 1000);
      const trigger = row.trigger ?? 'manual';
      let at = startMs;
      let rel = clipRelPath(row.camera, clipFileName(row.camera, at, trigger));
      while (rel !== row.path && (await exists(join(this.#c.mediaDir, rel)))) {
        at += 1;
        rel = clipRelPath(row.camera, clipFileName(row.camera, at, trigger));
      }
      const abs = absolutePath(this.#c.mediaDir, rel);
      await mkdir(join(this.#c.mediaDir, row.camera, CLIPS_DIR), { recursive: true });
      const fh = await open(tmp, 'r');
      await fh.sync().finally(() => fh.close());
      await rename(tmp, abs);
      await syncDir(join(this.#c.mediaDir, row.camera, CLIPS_DIR));
      const { size } = await stat(abs);
      const current = this.#c.index.get(row.id) ?? row;
      this.#c.index.update(row.id, { path: rel, startMs: at, endMs: at + durationMs, size, state: 'complete' });
      this.#c.known.add(rel);
      if (current.protected) {
        const marker = join(this.#c.mediaDir, markerRelPath(rel));
        await mkdir(join(marker, '..'), { recursive: true });
        await writeFile(marker, '');
      }
      const saved = this.#c.index.get(row.id);
      if (!saved) throw new Error('the clip vanished from the index');
      const view = this.#c.toView(saved);
      this.#c.log.info({ camera: row.camera, clip: view.id, path: rel, seconds: durationMs / 1000 }, 'clip saved');
      this.#c.o.bus.emit('clip.saved', {
        id: view.id,
        camera: row.camera,
        path: rel,
        url: view.url ?? '',
        start: view.start,
        end: view.end,
        durationSeconds: view.durationSeconds,
        size,
        trigger,
        protected: saved.protected,
      });
      return view;
    });
  }

  async #dropPart(partRel: string | null): Promise<void> {
    if (partRel === null) return;
    try {
      await rm(join(this.#c.mediaDir, partRel), { force: true });
    } finally {
      this.#c.ownedParts.delete(partRel);
    }
  }

  /** A clip FFmpeg was recording when Camstack died: its fragmented part becomes the clip. */
  async recoverPart(camera: string, finalRel: string): Promise<void> {
    const partAbs = join(this.#c.mediaDir, partRelPath(finalRel));
    const row = this.#c.index.getByPath(finalRel);
    const requested = parseClipName(finalRel.split('/').pop() ?? '')?.startMs;
    // A clip is named after its first keyframe once saved, its part after the request: a part
    // whose request has a saved clip was committed (Camstack stopped before removing the part).
    const committed = this.#c.index
      .list({ type: 'clip', camera, state: 'complete' })
      .find((r) => r.requestedMs !== null && r.requestedMs === requested);
    if (committed) {
      this.#c.log.info(
        { path: finalRel, clip: formatRid('clip', committed.id) },
        'removing the part file of a saved clip',
      );
      await rm(partAbs, { force: true });
      return;
    }
    const tmp = this.#c.tmpFile('.mp4');
    try {
      await this.#remuxPart(partAbs, tmp);
      const parsed = parseClipName(finalRel.split('/').pop() ?? '');
      const target =
        row ??
        this.#c.index.insert({
          type: 'clip',
          camera,
          path: finalRel,
          startMs: parsed?.startMs ?? this.#c.now(),
          endMs: parsed?.startMs ?? this.#c.now(),
          size: 0,
          protected: false,
          trigger: parsed?.trigger ?? 'manual',
          kind: null,
          state: 'open',
          requestedMs: null,
        });
      // Called under the lock already (scan): commit inline.
      const probed = await probe(this.#c.o.ffprobe, tmp);
      const abs = absolutePath(this.#c.mediaDir, finalRel);
      await rename(tmp, abs);
      const { size } = await stat(abs);
      this.#c.index.update(target.id, {
        state: 'complete',
        size,
        endMs: target.startMs + Math.round(probed.durationSeconds * 1000),
      });
      this.#c.known.add(finalRel);
      this.#c.log.warn({ path: finalRel }, 'recovered a clip interrupted by a crash');
      const view = this.#c.view(formatRid('clip', target.id));
      this.#c.o.bus.emit('clip.saved', {
        id: view.id,
        camera,
        path: finalRel,
        url: view.url ?? '',
        start: view.start,
        end: view.end,
        durationSeconds: view.durationSeconds,
        size,
        trigger: view.trigger ?? 'manual',
        protected: view.protected,
      });
    } catch (err) {
      this.#c.log.warn({ path: finalRel, err: message(err) }, 'an interrupted clip could not be recovered');
      if (row) this.#c.index.delete(row.id);
    } finally {
      await rm(partAbs, { force: true });
      await rm(tmp, { force: true });
    }
  }

  /**
   * Clips that were being recorded when Camstack stopped without finishing them: cut them from
   * the recording now, ending where the recording ends (or as planned). Runs in the background;
   * MediaMTX's playback server may need a few seconds to come up.
   */
  recoverPendingClips(): void {
    const pending = this.#c.index.list({ type: 'clip', state: 'open' });
    for (const row of pending) {
      if (row.path !== null && this.#c.known.has(row.path)) continue;
      const partAbs = row.path ? join(this.#c.mediaDir, partRelPath(row.path)) : null;
      const clip: ActiveClip = {
        rowId: row.id,
        camera: row.camera,
        trigger: row.trigger ?? 'manual',
        requestedMs: row.requestedMs ?? row.startMs,
        startMs: row.startMs,
        endMs: Math.min(row.endMs, this.#c.createdAt),
        timer: null,
        method: 'playback',
        proc: null,
        release: null,
        partRel: null,
        plannedEndMs: row.endMs,
        rec: null,
        finishing: null,
      };
      this.#c.pins.set(row.id, { camera: row.camera, startMs: row.startMs, endMs: row.endMs });
      const job = (async () => {
        if (partAbs && (await exists(partAbs))) {
          // Handled by the scan (FFmpeg clip): nothing to cut.
          this.#c.pins.delete(row.id);
          return;
        }
        for (let i = 0; i < 30 && !this.#c.stopped; i++) {
          if (this.#c.o.recorder.running()) break;
          await sleep(1000);
        }
        this.#c.log.info(
          { camera: row.camera, clip: formatRid('clip', row.id) },
          'finishing a clip a restart interrupted',
        );
        await this.finish(clip);
      })().catch(() => undefined);
      void job;
    }
  }
}
