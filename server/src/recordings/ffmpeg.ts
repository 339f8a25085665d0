/**
 * Short FFmpeg/ffprobe jobs on files (argument arrays, timeouts, no shell): probing a file,
 * joining MP4 pieces, and turning a fragmented recording into a faststart MP4. Stream copy only.
 */
import { writeFile } from 'node:fs/promises';
import { execa } from 'execa';

export interface ProbeResult {
  durationSeconds: number;
  videoCodec: string | null;
}

/** ffprobe a file; throws with ffprobe's message when the file is not playable media. */
export async function probe(ffprobe: string, file: string, timeoutMs = 30_000): Promise<ProbeResult> {
  const r = await execa(
    ffprobe,
    ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file],
    { timeout: timeoutMs, reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`ffprobe failed: ${String(r.stderr).trim().slice(0, 300)}`);
  const body = JSON.parse(String(r.stdout)) as {
    format?: { duration?: string };
    streams?: { codec_type?: string; codec_name?: string }[];
  };
  const durationSeconds = Number(body.format?.duration ?? Number.NaN);
  if (!Number.isFinite(durationSeconds)) throw new Error('ffprobe found no duration');
  const video = body.streams?.find((s) => s.codec_type === 'video');
  return { durationSeconds, videoCodec: video?.codec_name ?? null };
}

async function run(ffmpeg: string, args: readonly string[], timeoutMs: number): Promise<void> {
  const r = await execa(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    timeout: timeoutMs,
    reject: false,
  });
  if (r.exitCode !== 0 || r.timedOut) {
    throw new Error(
      `ffmpeg failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}): ${String(r.stderr).trim().slice(0, 300)}`,
    );
  }
}

/**
 * One MP4 from several MP4 pieces of the same camera, stream copy. `fragmented` writes a
 * fragmented MP4 (no size limit, streams while written); otherwise a faststart MP4.
 */
export async function concatCopy(
  ffmpeg: string,
  pieces: readonly string[],
  listFile: string,
  out: string,
  fragmented: boolean,
  timeoutMs = 600_000,
): Promise<void> {
  const list = `ffconcat version 1.0\n${pieces.map((p) => `file '${p.replace(/'/g, "'\\''")}'`).join('\n')}\n`;
  await writeFile(listFile, list);
  await run(
    ffmpeg,
    [
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      listFile,
      '-map',
      '0',
      '-c',
      'copy',
      '-movflags',
      fragmented ? '+frag_keyframe+empty_moov+default_base_moof' : '+faststart',
      '-f',
      'mp4',
      '-y',
      out,
    ],
    timeoutMs,
  );
}

/**
 * A (fragmented, possibly cut short) recording → faststart MP4, stream copy. `maxSeconds` keeps
 * only that much of it, from its start (packets after it are left out; no keyframe is needed at
 * an end).
 */
export async function remuxFaststart(
  ffmpeg: string,
  input: string,
  out: string,
  timeoutMs = 600_000,
  maxSeconds?: number,
): Promise<void> {
  const limit = maxSeconds !== undefined && Number.isFinite(maxSeconds) ? ['-t', maxSeconds.toFixed(3)] : [];
  await run(
    ffmpeg,
    ['-i', input, '-map', '0', '-c', 'copy', ...limit, '-movflags', '+faststart', '-f', 'mp4', '-y', out],
    timeoutMs,
  );
}
