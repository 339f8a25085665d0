import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveBinaries } from '../../server/src/engines/binaries.js';

describe('engine binaries', () => {
  const root = mkdtempSync(join(tmpdir(), 'camstack-bins-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  const exe = (path: string): string => {
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
    return path;
  };
  // A PATH with every engine on it, and a cache folder whose manifest names other builds.
  const pathDir = join(root, 'path');
  mkdirSync(pathDir);
  for (const name of ['go2rtc', 'mediamtx', 'ffmpeg', 'ffprobe']) exe(join(pathDir, name));
  const cacheDir = join(root, 'cache');
  mkdirSync(join(cacheDir, 'bin'), { recursive: true });
  const pinned = { go2rtc: exe(join(cacheDir, 'bin', 'go2rtc-1')), mediamtx: exe(join(cacheDir, 'bin', 'mediamtx-1')) };
  writeFileSync(join(cacheDir, 'bin', 'engines.json'), JSON.stringify(pinned));

  it('takes the pinned builds from the cache folder setup used (CAMSTACK_CACHE_DIR), before PATH', () => {
    const found = resolveBinaries({}, pathDir, cacheDir);
    assert.equal(found.go2rtc, pinned.go2rtc);
    assert.equal(found.mediamtx, pinned.mediamtx);
    assert.equal(found.ffmpeg, join(pathDir, 'ffmpeg'));
  });

  it('a configured path wins; a cache folder without a manifest falls back to PATH', () => {
    const found = resolveBinaries({ go2rtc: join(pathDir, 'go2rtc') }, pathDir, join(root, 'empty'));
    assert.equal(found.go2rtc, join(pathDir, 'go2rtc'));
    assert.equal(found.mediamtx, join(pathDir, 'mediamtx'));
  });

  it('a missing engine names the setup command', () => {
    assert.throws(() => resolveBinaries({}, join(root, 'nowhere'), join(root, 'empty')), /npm run setup/);
  });
});
