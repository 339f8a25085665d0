/**
 * The HLS VOD builder on segments really recorded by MediaMTX (FFmpeg publishing a 1.5 s GOP, so
 * MediaMTX's 1 s parts do not all start at keyframes), and FFmpeg's own HLS reader playing the
 * playlist we build over those files by byte range.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { buildMediamtxConfig } from '../../server/src/engines/mediamtx-config.js';
import {
  buildVodPlaylist,
  type FragmentLayout,
  groupFragments,
  readFragmentLayout,
  type VodFile,
} from '../../server/src/recordings/hls-vod.js';
import { freeEnginePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';

const bins = resolveBinaries();
const dir = mkdtempSync(join(tmpdir(), 'camstack-hls-vod-'));
const FPS = 10;
let files: string[] = [];

async function record(): Promise<string[]> {
  const ports = await freeEnginePorts();
  const config = buildMediamtxConfig({
    ports,
    recordDir: join(dir, 'rec'),
    rtspBind: '127.0.0.1',
    logLevel: 'error',
    segmentSeconds: 3,
  });
  const yml = join(dir, 'mediamtx.yml');
  writeFileSync(yml, JSON.stringify({ ...config, hls: false, paths: { cam: { record: true } } }));
  const procs: ChildProcess[] = [];
  try {
    procs.push(spawn(bins.mediamtx, [yml], { stdio: ['ignore', 'ignore', 'inherit'] }));
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${ports.mediamtxApi}/v3/info`).catch(() => null))?.ok === true,
      15_000,
      'MediaMTX up',
    );
    procs.push(
      spawn(
        bins.ffmpeg,
        [
          ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
          ...['-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=${FPS}`],
          ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
          ...['-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
          ...['-g', String(FPS * 1.5), '-keyint_min', String(FPS * 1.5), '-sc_threshold', '0', '-bf', '0'],
          ...['-c:a', 'libopus', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${ports.mediamtxRtsp}/cam`],
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    );
    const publisher = procs[1] as ChildProcess;
    await new Promise<void>((resolve) => publisher.once('exit', () => resolve()));
  } finally {
    for (const p of procs) p.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const camDir = join(dir, 'rec', 'cam');
  return readdirSync(camDir)
    .filter((f) => f.endsWith('.mp4'))
    .sort()
    .map((f) => join(camDir, f));
}

before(async () => {
  files = await record();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Video frames ffprobe decodes from a file or playlist. */
function videoFrames(input: string, options: string[] = []): number {
  const out = execFileSync(
    bins.ffprobe,
    [
      ...['-v', 'error', ...options, '-select_streams', 'v:0', '-count_frames'],
      ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', input],
    ],
    { encoding: 'utf8' },
  );
  return Number(out.trim().split(/\s+/)[0]);
}

function vodFiles(layouts: FragmentLayout[]): VodFile[] {
  let at = Date.parse('2026-01-01T00:00:00Z');
  return layouts.map((layout, i) => {
    const file = { uri: `file${i}.mp4`, startMs: at, layout };
    at += layout.fragments.reduce((n, f) => n + f.durationMs, 0);
    return file;
  });
}

describe('HLS VOD over recorded segments', { timeout: 120_000 }, () => {
  it('MediaMTX recorded several segment files', () => {
    assert.ok(files.length >= 2, `${files.length} files`);
  });

  it('reads each file: init at the head, then complete fragments with durations and keyframe flags', async () => {
    for (const file of files) {
      const layout = await readFragmentLayout(file);
      const buf = readFileSync(file);
      assert.equal(buf.toString('latin1', 4, 8), 'ftyp');
      assert.ok(layout.initSize > 0 && layout.initSize < 4096);
      assert.ok(layout.fragments.length >= 1);
      let pos = layout.initSize;
      for (const f of layout.fragments) {
        assert.equal(f.offset, pos, 'fragments follow each other');
        assert.equal(buf.toString('latin1', f.offset + 4, f.offset + 8), 'moof');
        assert.ok(f.durationMs > 0 && f.durationMs < 2500, `${f.durationMs} ms`);
        pos = f.offset + f.size;
      }
      assert.ok(pos <= buf.length);
      assert.equal(layout.fragments[0]?.keyframe, true, 'a segment starts at a keyframe');
    }
    const all = (await Promise.all(files.map(readFragmentLayout))).flatMap((l) => l.fragments);
    // 1 s parts over a 1.5 s GOP: some parts start at a keyframe, some do not.
    assert.ok(all.some((f) => f.keyframe) && all.some((f) => !f.keyframe), JSON.stringify(all.map((f) => f.keyframe)));
  });

  it('groups fragments into media segments that start at keyframes', async () => {
    const [file] = vodFiles([await readFragmentLayout(files[0] as string)]);
    const segments = groupFragments(file as VodFile, 2000, 10_000);
    assert.ok(segments.length >= 1);
    for (const s of segments) assert.equal(s.keyframe, true);
    const total = segments.reduce((n, s) => n + s.durationMs, 0);
    const frags = (file as VodFile).layout.fragments;
    assert.equal(Math.round(total), Math.round(frags.reduce((n, f) => n + f.durationMs, 0)));
    assert.equal(
      segments.reduce((n, s) => n + s.size, 0),
      frags.reduce((n, f) => n + f.size, 0),
    );
  });

  it('writes a VOD playlist: version 7, a byte-range map per file, discontinuities, byte ranges, end list', async () => {
    const layouts = await Promise.all(files.map(readFragmentLayout));
    const vod = vodFiles(layouts);
    const text = buildVodPlaylist(vod, { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }) as string;
    const lines = text.trim().split('\n');
    assert.equal(lines[0], '#EXTM3U');
    assert.ok(lines.includes('#EXT-X-VERSION:7'));
    assert.ok(lines.includes('#EXT-X-PLAYLIST-TYPE:VOD'));
    assert.equal(lines.at(-1), '#EXT-X-ENDLIST');
    assert.equal(lines.filter((l) => l.startsWith('#EXT-X-MAP:')).length, files.length);
    assert.equal(lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length, files.length - 1);
    layouts.forEach((l, i) => {
      assert.ok(lines.includes(`#EXT-X-MAP:URI="file${i}.mp4",BYTERANGE="${l.initSize}@0"`));
    });
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1]);
    const extinf = lines.filter((l) => l.startsWith('#EXTINF:')).map((l) => Number.parseFloat(l.slice(8)));
    for (const d of extinf) assert.ok(d > 0 && Math.round(d) <= target, `${d} within ${target}`);
    const recorded = layouts.flatMap((l) => l.fragments).reduce((n, f) => n + f.durationMs, 0) / 1000;
    assert.ok(Math.abs(extinf.reduce((n, d) => n + d, 0) - recorded) < 0.05);

    // FFmpeg's own HLS reader plays the byte ranges of each file: every frame the file holds.
    for (const [i, file] of files.entries()) {
      const one = buildVodPlaylist([{ ...(vod[i] as VodFile), uri: file }], {
        fromMs: 0,
        toMs: Number.MAX_SAFE_INTEGER,
      });
      const list = join(dir, `vod${i}.m3u8`);
      writeFileSync(list, one as string);
      assert.equal(videoFrames(list, ['-allowed_extensions', 'ALL']), videoFrames(file), file);
    }
    // … and goes on across the discontinuities (FFmpeg does not realign the timestamps each file
    // starts again from, so it may drop a few frames there; browsers do realign).
    const all = join(dir, 'vod.m3u8');
    writeFileSync(
      all,
      text.replace(/file(\d+)\.mp4/g, (_m, i: string) => files[Number(i)] as string),
    );
    assert.ok(videoFrames(all, ['-allowed_extensions', 'ALL']) > videoFrames(files[0] as string));
  });

  it('lists only the media segments overlapping the span; null when nothing does', async () => {
    const vod = vodFiles(await Promise.all(files.map(readFragmentLayout)));
    const start = (vod[0] as VodFile).startMs;
    const some = buildVodPlaylist(vod, { fromMs: start + 500, toMs: start + 1500 }) as string;
    assert.equal((some.match(/#EXTINF/g) ?? []).length, 1);
    assert.ok(!some.includes('#EXT-X-DISCONTINUITY'));
    assert.match(some, /#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z/);
    assert.equal(buildVodPlaylist(vod, { fromMs: start - 10_000, toMs: start - 5000 }), null);
    assert.equal(buildVodPlaylist([], { fromMs: 0, toMs: 1 }), null);
  });
});
