import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { restreamUrl } from '../cameras/engine-plan.js';
import type { Camera } from '../config/load.js';
import type { RecordingView } from '../contract/index.js';
import { ManagedProcess } from '../supervisor/managed-process.js';
import {
  CLIP_FIRST_VIDEO_TIMEOUT_MS,
  CLIP_STALL_TIMEOUT_MS,
  recorderDecision,
  refineAnchor,
  videoHeldMs,
} from './clip-span.js';
import type { ActiveClip } from './clip-state.js';
import {
  message,
  RECORDER_FRAGMENT_MS,
  RECORDER_POLL_MS,
  RECORDER_PROBE_MS,
  type RecordingContext,
} from './context.js';
import { MAX_CLIP_TOTAL_MS } from './limits.js';
import { readMp4Info, scanFragments } from './mp4.js';
import { CLIPS_DIR } from './naming.js';

/** The FFmpeg reader that records a clip of a camera that is not recorded 24/7, driven by what its file holds. */
export class ClipRecorder {
  readonly #c: RecordingContext;
  /** Ends the clip (the clips part saves it) once its file holds what it wants, or gives up. */
  readonly #finish: (clip: ActiveClip) => Promise<RecordingView>;

  constructor(c: RecordingContext, finish: (clip: ActiveClip) => Promise<RecordingView>) {
    this.#c = c;
    this.#finish = finish;
  }

  async startRecorder(clip: ActiveClip, camera: Camera): Promise<void> {
    const rec = clip.rec;
    if (clip.partRel === null || rec === null) throw new Error('no part file');
    const partAbs = join(this.#c.mediaDir, clip.partRel);
    await mkdir(join(this.#c.mediaDir, camera.id, CLIPS_DIR), { recursive: true });
    // Ended meanwhile (a retry racing a stop): #save has stopped the recorder it knew of.
    if (clip.finishing) return;
    // A new attempt starts a new file (FFmpeg overwrites it): forget what was read of the old one.
    rec.cursor = undefined;
    rec.info = null;
    rec.attempts++;
    clip.release ??= this.#c.o.acquireInternalReader(camera.id);
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '10000000',
      '-analyzeduration',
      String(RECORDER_PROBE_MS * 1000),
      '-probesize',
      String(32 * 1024 * 1024),
      // No frame-rate estimate (it would hold the first write back by 20 frames); timestamps come from RTP.
      '-fpsprobesize',
      '0',
      '-i',
      restreamUrl(camera.id, { mediamtxRtsp: this.#c.o.ports.mediamtxRtsp, go2rtcRtsp: 0 }),
      '-map',
      '0:v:0',
      ...(rec.withAudio ? ['-map', '0:a:0?'] : ['-an']),
      '-c',
      'copy',
      '-f',
      'mp4',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof',
      '-frag_duration',
      String(RECORDER_FRAGMENT_MS * 1000),
      '-y',
      partAbs,
    ];
    const proc = new ManagedProcess({
      name: `ffmpeg:${camera.id}:clip`,
      command: this.#c.o.ffmpeg,
      args,
      bus: this.#c.o.bus,
      logger: this.#c.o.logger,
      redactor: this.#c.o.redactor,
      restartOnExit: false,
      stopMethod: 'q',
      policy: { maxRestarts: 0 },
      ...(this.#c.o.pidDir ? { pidDir: this.#c.o.pidDir } : {}),
    });
    clip.proc = proc;
    await proc.start();
  }

  /**
   * Drives an FFmpeg clip from what its file holds: the clip starts with the camera's first
   * keyframe after the request (an on-demand camera is being opened, FFmpeg waits for a keyframe)
   * and ends once it holds the video asked for — `duration` seconds of it, however long the camera
   * took to deliver the first frame. Gives up when no video came within the first-video timeout.
   * A recorder that fails before any video (the camera is not ready yet; an audio codec MP4 cannot
   * hold) is started again, without audio, until then.
   */
  async watchRecorder(clip: ActiveClip, camera: Camera): Promise<void> {
    const rec = clip.rec;
    if (clip.partRel === null || rec === null) return;
    const partAbs = join(this.#c.mediaDir, clip.partRel);
    const firstVideoTimeoutMs = this.#c.o.clipFirstVideoTimeoutMs ?? CLIP_FIRST_VIDEO_TIMEOUT_MS;
    let lastSize = -1;
    let failedAt: number | null = null;
    while (!clip.finishing && !this.#c.stopped) {
      const now = this.#c.now();
      const st = await stat(partAbs).catch(() => null);
      if (st && st.size > 0 && st.size !== lastSize) {
        lastSize = st.size;
        await this.#readRecorderFile(clip, partAbs, now).catch(() => undefined);
      }
      if (clip.finishing) return;
      const proc = clip.proc;
      const alive = proc !== null && proc.state !== 'failed' && proc.state !== 'stopped';
      if (!alive && rec.video === null && now - clip.requestedMs < firstVideoTimeoutMs) {
        // Failed before any video: try again (without audio, in case its codec was the problem).
        failedAt ??= now;
        if (now - failedAt >= 1000) {
          failedAt = null;
          this.#c.log.warn(
            { camera: camera.id, why: proc?.lastError, attempt: rec.attempts },
            'clip recorder failed before any video; retrying without audio',
          );
          rec.withAudio = false;
          lastSize = -1;
          await this.startRecorder(clip, camera).catch((err: unknown) =>
            this.#c.log.warn({ camera: camera.id, err: message(err) }, 'clip recorder could not be started'),
          );
          continue;
        }
      }
      const wantedMs = Math.min(clip.plannedEndMs - clip.requestedMs, MAX_CLIP_TOTAL_MS);
      const decision = recorderDecision({
        nowMs: now,
        requestedMs: clip.requestedMs,
        wantedMs,
        video: rec.video,
        videoGrewAtMs: rec.videoGrewAtMs,
        recorderAlive: alive,
        firstVideoTimeoutMs,
        stallTimeoutMs: CLIP_STALL_TIMEOUT_MS,
      });
      if (decision.action !== 'wait') {
        if (videoHeldMs(rec.video) >= wantedMs) rec.keepVideoMs = wantedMs;
        if (decision.action === 'fail') {
          const why = proc?.lastError ? ` (recorder: ${proc.lastError.split('\n').slice(-1)[0]})` : '';
          rec.failReason = `${decision.reason}${alive ? '' : why}`;
        }
        void this.#finish(clip).catch(() => undefined);
        return;
      }
      await sleep(RECORDER_POLL_MS, undefined, { ref: false });
    }
  }

  /** Reads the new fragments of a clip recorder's file: the video it holds, and its wall clock. */
  async #readRecorderFile(clip: ActiveClip, partAbs: string, observedAtMs: number): Promise<void> {
    const rec = clip.rec;
    if (rec === null) return;
    rec.info ??= await readMp4Info(partAbs);
    const scan = await scanFragments(partAbs, rec.info, rec.cursor);
    rec.cursor = scan.cursor;
    if (scan.tracks.size === 0) return;
    let videoId: number | null = null;
    for (const [id, handler] of rec.info.handlers) if (handler === 'vide') videoId = id;
    const video = videoId === null ? undefined : scan.tracks.get(videoId);
    if (video === undefined) return;
    if (rec.video === null || video.endMs > rec.video.endMs) rec.videoGrewAtMs = observedAtMs;
    rec.video = { ...video };
    rec.mediaStartMs = Math.min(...[...scan.tracks.values()].map((t) => t.startMs));
    rec.anchorMs = refineAnchor(rec.anchorMs, observedAtMs, scan.mediaMs);
    // The clip as far as it is known (the API lists it in progress with these times).
    const startMs = rec.anchorMs + rec.mediaStartMs;
    const endMs =
      rec.anchorMs +
      Math.max(video.startMs, video.firstSampleEndMs) +
      Math.min(clip.plannedEndMs - clip.requestedMs, MAX_CLIP_TOTAL_MS);
    if (startMs !== clip.startMs || endMs !== clip.endMs) {
      clip.startMs = startMs;
      clip.endMs = endMs;
      this.#c.index.update(clip.rowId, { startMs, endMs });
    }
  }
}
