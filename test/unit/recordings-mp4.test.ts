/**
 * The MP4 reader and the crash repair, on fragmented MP4 made by the real FFmpeg (1 s fragments,
 * no duration in the header, like a segment MediaMTX is still writing).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { Mp4Error, readMp4Info, repairFragmentedMp4, scanFragments } from '../../server/src/recordings/mp4.js';

const bins = resolveBinaries();
const dir = mkdtempSync(join(tmpdir(), 'camstack-mp4-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fragmented = '';

function ffprobeOk(file: string): void {
  execFileSync(bins.ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
}

before(() => {
  fragmented = join(dir, 'frag.mp4');
  execFileSync(bins.ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x120:rate=10',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '5',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '10',
    '-c:a',
    'libopus',
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof',
    '-y',
    fragmented,
  ]);
});

describe('MP4 reading', () => {
  it('reads the header of a fragmented MP4 being written: no duration yet, tracks and timescales', async () => {
    const info = await readMp4Info(fragmented);
    assert.equal(info.durationMs, 0);
    assert.equal(info.fragmented, true);
    assert.equal(info.timescales.size, 2);
    const scan = await scanFragments(fragmented, info);
    assert.ok(Math.abs(scan.mediaMs - 5000) <= 100, `media ${scan.mediaMs} ms`);
    // FFmpeg ends the file with an index box (mfra) after the last fragment.
    const tail = readFileSync(fragmented).subarray(scan.completeEnd);
    assert.ok(tail.length === 0 || tail.toString('latin1', 4, 8) === 'mfra');
    assert.ok(scan.fragments >= 5);
  });

  it('follows a growing file incrementally and ignores a torn last fragment', async () => {
    const whole = readFileSync(fragmented);
    const info = await readMp4Info(fragmented);
    const full = await scanFragments(fragmented, info);
    const growing = join(dir, 'growing.mp4');
    // Cut in the middle of the file: the fragment there is torn.
    writeFileSync(growing, whole.subarray(0, Math.floor(whole.length / 2)));
    const half = await scanFragments(growing, info);
    assert.ok(half.fragments < full.fragments && half.mediaMs < full.mediaMs);
    assert.ok(half.completeEnd < whole.length / 2);
    // The rest arrives: continue from the cursor.
    appendFileSync(growing, whole.subarray(Math.floor(whole.length / 2)));
    const rest = await scanFragments(growing, info, half.cursor);
    assert.equal(rest.fragments, full.fragments);
    assert.equal(rest.mediaMs, full.mediaMs);
  });

  it('tells the tracks apart (video, audio) and the media time each covers, also incrementally', async () => {
    const info = await readMp4Info(fragmented);
    assert.deepEqual([...info.handlers.values()].sort(), ['soun', 'vide']);
    const video = [...info.handlers].find(([, h]) => h === 'vide')?.[0] as number;
    const full = await scanFragments(fragmented, info);
    const v = full.tracks.get(video);
    assert.ok(v, 'the video track has samples');
    assert.equal(v.startMs, 0);
    assert.ok(Math.abs(v.endMs - 5000) <= 100, `video ends at ${v.endMs} ms`);
    // About one frame at 10 fps (FFmpeg may stretch the first a little to line up with the audio).
    assert.ok(v.firstSampleEndMs >= 90 && v.firstSampleEndMs <= 150, `first frame ends at ${v.firstSampleEndMs} ms`);
    // Half the file, then the rest from the cursor: the same spans.
    const whole = readFileSync(fragmented);
    const growing = join(dir, 'growing-tracks.mp4');
    writeFileSync(growing, whole.subarray(0, Math.floor(whole.length / 2)));
    const half = await scanFragments(growing, info);
    assert.ok((half.tracks.get(video)?.endMs ?? 0) < v.endMs);
    appendFileSync(growing, whole.subarray(Math.floor(whole.length / 2)));
    const rest = await scanFragments(growing, info, half.cursor);
    assert.deepEqual(rest.tracks.get(video), v);
    assert.deepEqual(half.cursor.tracks?.get(video), half.tracks.get(video), 'the cursor keeps its own copy');
  });

  it('repairs a file left open by a crash: torn tail cut, duration written, plays', async () => {
    const crashed = join(dir, 'crashed.mp4');
    const whole = readFileSync(fragmented);
    writeFileSync(crashed, whole.subarray(0, whole.length - 700));
    const repaired = await repairFragmentedMp4(crashed);
    assert.ok(repaired !== null);
    assert.ok(repaired.durationMs >= 3500 && repaired.durationMs < 5000, `kept ${repaired.durationMs} ms`);
    assert.equal(statSync(crashed).size, repaired.size);
    assert.equal((await readMp4Info(crashed)).durationMs, repaired.durationMs);
    ffprobeOk(crashed);
    // Repairing again changes nothing.
    assert.deepEqual(await repairFragmentedMp4(crashed), repaired);
  });

  it('a file with no complete fragment has nothing to keep; garbage is not an MP4', async () => {
    const info = await readMp4Info(fragmented);
    const headerOnly = join(dir, 'header.mp4');
    const scan = await scanFragments(fragmented, info);
    const whole = readFileSync(fragmented);
    // ftyp + moov only (the first fragment starts where the first complete one ends minus its size).
    const firstMoof = whole.indexOf(Buffer.from('moof')) - 4;
    writeFileSync(headerOnly, whole.subarray(0, firstMoof));
    assert.equal(await repairFragmentedMp4(headerOnly), null);
    assert.ok(scan.fragments > 0);
    const junk = join(dir, 'junk.mp4');
    writeFileSync(junk, 'not a video at all');
    await assert.rejects(readMp4Info(junk), Mp4Error);
    const plain = join(dir, 'plain.mp4');
    copyFileSync(fragmented, plain);
    execFileSync(bins.ffmpeg, ['-v', 'error', '-i', fragmented, '-c', 'copy', '-movflags', '+faststart', '-y', plain]);
    const p = await readMp4Info(plain);
    assert.equal(p.fragmented, false);
    assert.ok(Math.abs(p.durationMs - 5000) <= 100);
  });
});
