/**
 * A broken configuration at start-up: a cameras YAML or an add-on options.json with a syntax
 * error or an unknown key. The real server must exit non-zero with a clear error naming the file
 * (and the line, or the key), and must start NO engine — no go2rtc, MediaMTX or FFmpeg process
 * is ever spawned (checked by watching the server's descendants in the process table until it
 * exits), and no engine config or pid file is written.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { descendantsOf } from '../helpers/processes.js';
import { startServerProcess } from '../helpers/server-process.js';

interface Outcome {
  code: number | null;
  output: string;
  spawned: string[][];
  dataDir: string;
}

/** Starts the server with a cameras file and/or an options file of our own; watches until it exits. */
async function startWith(
  files: { camerasYaml?: string; optionsJson?: string },
  dir: string,
  extraEnv: Record<string, string> = {},
): Promise<Outcome> {
  const camerasFile = join(dir, `cameras-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(camerasFile, files.camerasYaml ?? 'cameras: []\n');
  const env: Record<string, string> = { ...extraEnv };
  if (files.optionsJson !== undefined) {
    const optionsFile = join(dir, `options-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(optionsFile, files.optionsJson);
    env.CAMSTACK_OPTIONS = optionsFile;
    env.CAMSTACK_CAMERAS_FILE = camerasFile;
    env.CAMSTACK_DATA_DIR = join(dir, 'data');
    env.CAMSTACK_MEDIA_DIR = join(dir, 'media');
  }
  const sp = await startServerProcess({ options: { cameras_file: camerasFile }, env, waitHealthy: false });
  const spawned: string[][] = [];
  const pid = sp.proc.pid as number;
  let exit: { code: number | null } | null = null;
  void sp.exited.then((e) => {
    exit = e;
  });
  const deadline = Date.now() + 60_000;
  while (exit === null && Date.now() < deadline) {
    for (const p of descendantsOf(pid)) spawned.push(p.argv);
    await new Promise((r) => setTimeout(r, 20));
  }
  const outcome: Outcome = {
    code: (exit as { code: number | null } | null)?.code ?? null,
    output: sp.output(),
    spawned,
    dataDir: files.optionsJson !== undefined ? join(dir, 'data') : join(sp.dir, 'data'),
  };
  const engineFiles = ['engines/go2rtc.yaml', 'engines/mediamtx.yml', 'engines/pids'].map((f) =>
    existsSync(join(outcome.dataDir, f)),
  );
  await sp.cleanup();
  assert.notEqual(exit, null, `the server exited within 60 s; output:\n${outcome.output.slice(-2000)}`);
  assert.deepEqual(engineFiles, [false, false, false], 'no engine config or pid file was written');
  return outcome;
}

function assertNoEngine(o: Outcome): void {
  const engines = o.spawned.filter((argv) => argv.some((a) => /go2rtc|mediamtx|ffmpeg|ffprobe/.test(a)));
  assert.deepEqual(engines, [], 'no engine process was ever spawned');
}

describe('a broken configuration at start-up', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'camstack-badconf-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cameras YAML with a syntax error: exit 1 naming the file and the line, no engine started', async () => {
    const yaml = ['cameras:', '  - id: front', '    name: "Front', '    source: rtsp://127.0.0.1:554/x', ''].join('\n');
    const o = await startWith({ camerasYaml: yaml }, dir);
    assert.equal(o.code, 1, o.output);
    assert.match(o.output, /Camstack could not start/);
    assert.match(o.output, /cameras_file \(\/[^)]*cameras-[a-z0-9]+\.yaml\)/, 'names the file');
    assert.match(o.output, /YAML syntax error at line \d+, column \d+/, 'names the line');
    assertNoEngine(o);
  });

  it('cameras YAML with an unknown key: exit 1 naming the file, the camera and the key', async () => {
    const yaml = [
      'cameras:',
      '  - id: front',
      '    name: Front',
      '    source: rtsp://127.0.0.1:554/x',
      '    colour: red',
      '  - id: back',
      '    name: Back',
      '    source: rtsp://127.0.0.1:554/y',
      'extra_top_level: 1',
      '',
    ].join('\n');
    const o = await startWith({ camerasYaml: yaml }, dir);
    assert.equal(o.code, 1, o.output);
    assert.match(o.output, /cameras-[a-z0-9]+\.yaml\) cameras\[0\]: unknown key "colour"/);
    assert.match(o.output, /cameras-[a-z0-9]+\.yaml\)[^\n]*unknown key "extra_top_level"/);
    assertNoEngine(o);
  });

  it('cameras YAML that is not a mapping, or has a camera with a hostile source: exit 1, no engine', async () => {
    for (const yaml of [
      '- just\n- a list\n',
      'cameras:\n  - id: x\n    name: X\n    source: "-i /etc/passwd"\n',
      'cameras:\n  - id: x\n    name: X\n    source: "rtsp://h/$(touch /tmp/camstack-pwned)"\n',
      'cameras: &a [*a]\n',
    ]) {
      const o = await startWith({ camerasYaml: yaml }, dir);
      assert.equal(o.code, 1, `${yaml}: ${o.output.slice(-1000)}`);
      assert.match(o.output, /cameras_file \(/, yaml);
      assertNoEngine(o);
    }
    assert.equal(existsSync('/tmp/camstack-pwned'), false);
  });

  it('options.json with a syntax error: exit 1 naming options.json, no engine started', async () => {
    const o = await startWith({ optionsJson: '{"log_level": "debug",, }' }, dir);
    assert.equal(o.code, 1, o.output);
    assert.match(o.output, /options\.json \(\/[^)]*options-[a-z0-9]+\.json\) is not valid JSON/);
    assertNoEngine(o);
  });

  it('options.json with an unknown key and a wrong type: exit 1 naming each key, no engine started', async () => {
    const o = await startWith(
      { optionsJson: JSON.stringify({ log_level: 'debug', frobnicate: true, max_cameras: 'many' }) },
      dir,
    );
    assert.equal(o.code, 1, o.output);
    assert.match(o.output, /options\.json unknown key "frobnicate"/);
    assert.match(o.output, /options\.json max_cameras: must be an integer/);
    assertNoEngine(o);
  });

  it('a bad CAMSTACK_* value: exit 1 naming each variable with the options problems, no engine started', async () => {
    const o = await startWith({ optionsJson: JSON.stringify({ frobnicate: true }) }, dir, {
      CAMSTACK_HEALTH_INTERVAL_MS: 'soon',
      CAMSTACK_ALLOW_TEST_SOURCES: 'maybe',
    });
    assert.equal(o.code, 1, o.output);
    assert.match(o.output, /options\.json unknown key "frobnicate"/);
    assert.match(o.output, /env CAMSTACK_HEALTH_INTERVAL_MS: must be an integer of at least 0 \(got "soon"\)/);
    assert.match(o.output, /env CAMSTACK_ALLOW_TEST_SOURCES: must be 1, true, yes, 0, false or no \(got "maybe"\)/);
    assertNoEngine(o);
  });
});
