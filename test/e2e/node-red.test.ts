/**
 * End to end in a real Node-RED: the package is packed from nodes/ (npm pack, which builds it),
 * installed into a fresh Node-RED user directory with npm (offline: it has no dependencies),
 * Node-RED (npm `node-red`) starts on a loopback port and must list the Camstack node types. A
 * flow inject → camstack-record (clip) → debug is deployed through the Admin API, triggered, and
 * the clip it reports must be on disk and in Camstack's /api/recordings. The editor, in Chromium,
 * must fill the camera dropdown and pass the config node's connection test. Camstack is the real
 * server with a synthetic camera; nothing is mocked.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CAMERA_ID_PATTERN, EVENT_DESCRIPTIONS, MAX_CLIP_SECONDS } from '../../server/src/contract/index.js';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { CAMERA, type Camstack, startCamstack, TOKEN } from '../nodes/harness.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const nodesDir = join(root, 'nodes');
const MODULE = '@camstack/node-red-contrib-camstack';
const TYPES = ['camstack-server', 'camstack-record', 'camstack-snapshot', 'camstack-stream', 'camstack-events'];

interface CommsFrame {
  topic: string;
  data: Record<string, unknown>;
}

interface SavedClip {
  id: string;
  path: string;
  url: string;
  start: string;
  end: string;
  size: number;
}

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  loaded?: boolean;
  err?: string;
}

describe('the Camstack nodes in a real Node-RED', () => {
  let cs: Camstack;
  let work: string;
  let userDir: string;
  let red: ChildProcess | null = null;
  let redOut = '';
  let admin = '';
  let comms: WebSocket | null = null;
  const frames: CommsFrame[] = [];
  let packedFiles: string[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'camstack-nr-e2e-'));
    userDir = join(work, 'userdir');
    // Pack the package as it would be published (prepack builds it), install it like the palette does.
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = await run(npm, ['pack', '--json', '--pack-destination', work], {
      cwd: nodesDir,
      maxBuffer: 16 << 20,
    });
    const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(work, info[0]?.filename ?? '');
    packedFiles = (info[0]?.files ?? []).map((f) => f.path).sort();
    await mkdir(userDir, { recursive: true });
    await writeFile(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    await run(npm, ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: userDir, maxBuffer: 16 << 20 });

    cs = await startCamstack();

    const port = await freePort();
    admin = `http://127.0.0.1:${port}`;
    const settings = join(work, 'settings.js');
    await writeFile(
      settings,
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        uiPort: port,
        flowFile: 'flows.json',
        credentialSecret: 'camstack-e2e-secret',
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false, projects: { enabled: false } },
        diagnostics: { enabled: false },
        telemetry: { enabled: false, updateNotification: false },
      })};\n`,
    );
    const redJs = createRequire(import.meta.url).resolve('node-red/red.js');
    red = spawn(process.execPath, [redJs, '--settings', settings, '--userDir', userDir], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
    });
    red.stdout?.on('data', (d: Buffer) => {
      redOut += d.toString();
    });
    red.stderr?.on('data', (d: Buffer) => {
      redOut += d.toString();
    });
    await waitUntil(
      async () => {
        if (red?.exitCode !== null) throw new Error(`Node-RED exited:\n${redOut}`);
        return fetch(`${admin}/settings`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
      },
      90_000,
      'Node-RED to answer /settings',
    );
    comms = new WebSocket(`ws://127.0.0.1:${port}/comms`);
    const ws = comms;
    ws.addEventListener('message', (ev) => {
      for (const frame of JSON.parse(String(ev.data)) as CommsFrame[]) frames.push(frame);
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('comms did not open')), { once: true });
    });
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
  });

  after(async () => {
    comms?.close();
    if (red && red.exitCode === null) {
      red.kill('SIGKILL');
      await new Promise((r) => red?.once('exit', r));
    }
    await cs?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs only what Node-RED needs: the built nodes with their HTML, icons, examples, licence', () => {
    for (const type of TYPES) {
      assert.ok(packedFiles.includes(`dist/${type}.js`), `dist/${type}.js packed`);
      assert.ok(packedFiles.includes(`dist/${type}.html`), `dist/${type}.html packed`);
    }
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'resources/camstack-editor.js',
      'dist/icons/camstack-record.svg',
    ]) {
      assert.ok(packedFiles.includes(f), `${f} packed`);
    }
    assert.ok(packedFiles.some((f) => f.startsWith('examples/') && f.endsWith('.json')));
    assert.deepEqual(
      packedFiles.filter((f) => /^(src|editor|scripts|test)\/|tsconfig/.test(f)),
      [],
      'no sources or build files',
    );
  });

  it('loads the node types: GET /nodes, the editor HTML, icons, resources, examples, settings', async () => {
    const res = await fetch(`${admin}/nodes`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = ((await res.json()) as NodeSet[]).filter((s) => s.module === MODULE);
    assert.deepEqual(sets.flatMap((s) => s.types).sort(), [...TYPES].sort(), redOut);
    for (const s of sets) {
      assert.equal(s.enabled, true, s.id);
      assert.equal(s.err, undefined, `${s.id}: ${s.err}`);
    }
    const html = await (await fetch(`${admin}/nodes`, { headers: { accept: 'text/html' } })).text();
    for (const type of TYPES) {
      assert.ok(html.includes(`data-template-name="${type}"`), `${type} form`);
      assert.ok(html.includes(`data-help-name="${type}"`), `${type} help`);
    }
    // The editors get the server's contract (event types, limits, camera ids) from the build.
    const contract = /window\.CamstackContract = (\{.*?\});<\/script>/.exec(html)?.[1];
    assert.ok(contract, 'the contract is in front of the editors');
    const facts = JSON.parse(contract) as Record<string, unknown>;
    assert.deepEqual(facts.EVENT_DESCRIPTIONS, EVENT_DESCRIPTIONS);
    assert.equal(facts.CAMERA_ID_PATTERN, CAMERA_ID_PATTERN);
    assert.equal(facts.MAX_CLIP_SECONDS, MAX_CLIP_SECONDS);
    assert.ok(!/\{\{[A-Z_]+\}\}/.test(html), 'every {{PLACEHOLDER}} of the help texts is filled');
    const icons = (await (await fetch(`${admin}/icons`, { headers: { accept: 'application/json' } })).json()) as Record<
      string,
      string[]
    >;
    assert.deepEqual(icons[MODULE]?.slice().sort(), TYPES.map((t) => `${t}.svg`).sort());
    const script = await fetch(`${admin}/resources/${MODULE}/camstack-editor.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /CamstackEditor/);
    // Import › Examples lists the package's flows, and each one loads.
    const lib = `${admin}/library/examples/flows`;
    const modules = (await (await fetch(`${lib}/`)).json()) as string[];
    assert.ok(modules.includes(MODULE), `examples of ${MODULE}: ${JSON.stringify(modules)}`);
    const listing = JSON.stringify(await (await fetch(`${lib}/${MODULE}`)).json());
    for (const name of ['Record a clip', 'Take a snapshot', 'Keep a stream warm', 'Follow events']) {
      assert.ok(listing.includes(name), `example ${name} listed: ${listing}`);
      const flow = (await (await fetch(`${lib}/${MODULE}/${encodeURIComponent(name)}`)).json()) as { type: string }[];
      assert.ok(Array.isArray(flow) && flow.some((n) => n.type === 'camstack-server'), `example ${name} loads`);
    }
    const settings = (await (await fetch(`${admin}/settings`)).json()) as Record<string, unknown>;
    assert.match(String(settings.camstackServerDefaultUrl), /^http:\/\/[0-9a-f]{8}-camstack:8098$/);
  });

  it('records a clip from a deployed flow: inject → camstack-record → debug; the clip is on disk and listed', async () => {
    const flows = [
      { id: 'e2e_tab', type: 'tab', label: 'Camstack e2e' },
      {
        id: 'e2e_srv',
        type: 'camstack-server',
        name: 'camstack',
        baseUrl: cs.directUrl,
        credentials: { token: TOKEN },
      },
      {
        id: 'e2e_inj',
        type: 'inject',
        z: 'e2e_tab',
        name: 'motion',
        props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
        payload: 'clip',
        payloadType: 'str',
        topic: 'motion',
        repeat: '',
        once: false,
        x: 100,
        y: 80,
        wires: [['e2e_rec']],
      },
      {
        id: 'e2e_rec',
        type: 'camstack-record',
        z: 'e2e_tab',
        server: 'e2e_srv',
        camera: CAMERA,
        action: 'clip',
        preRoll: '',
        duration: '5',
        x: 300,
        y: 80,
        wires: [['e2e_dbg']],
      },
      {
        id: 'e2e_dbg',
        type: 'debug',
        z: 'e2e_tab',
        name: 'clip',
        active: true,
        tosidebar: true,
        console: false,
        complete: 'payload',
        targetType: 'msg',
        x: 500,
        y: 80,
        wires: [],
      },
      {
        id: 'e2e_catch',
        type: 'catch',
        z: 'e2e_tab',
        scope: null,
        uncaught: false,
        x: 100,
        y: 160,
        wires: [['e2e_err']],
      },
      {
        id: 'e2e_err',
        type: 'debug',
        z: 'e2e_tab',
        name: 'error',
        active: true,
        tosidebar: true,
        console: false,
        complete: 'error',
        targetType: 'msg',
        x: 300,
        y: 160,
        wires: [],
      },
    ];
    const deployed = await fetch(`${admin}/flows`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'full',
      },
      body: JSON.stringify({ flows }),
    });
    assert.equal(deployed.status, 200, await deployed.text());

    // The deployed config node answers the editor's camera dropdown.
    await waitUntil(
      async () => (await fetch(`${admin}/camstack/e2e_srv/cameras`)).status === 200,
      20_000,
      'the admin route',
    );
    const cameras = await (await fetch(`${admin}/camstack/e2e_srv/cameras`)).json();
    assert.deepEqual(cameras, [{ id: CAMERA, name: 'Porch', enabled: true }]);
    // The token stayed out of the flow file.
    const stored = (await (await fetch(`${admin}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as {
      flows: Record<string, unknown>[];
    };
    assert.ok(!JSON.stringify(stored).includes(TOKEN), 'no token in GET /flows');
    assert.ok(!(await readFile(join(userDir, 'flows.json'), 'utf8')).includes(TOKEN), 'no token in flows.json');

    await waitUntil(
      async () => (await fetch(`${admin}/inject/e2e_inj`, { method: 'POST' })).status === 200,
      20_000,
      'the inject to fire',
    );

    const savedClip = (): SavedClip | null => {
      const failed = frames.find((f) => f.topic === 'debug' && f.data.id === 'e2e_err');
      if (failed) throw new Error(`the flow reported an error: ${String(failed.data.msg)}`);
      const hit = frames.find((f) => f.topic === 'debug' && f.data.id === 'e2e_dbg');
      return hit ? (JSON.parse(String(hit.data.msg)) as SavedClip) : null;
    };
    await waitUntil(() => savedClip() !== null, 150_000, 'the saved clip in the debug sidebar');
    const saved = savedClip() as SavedClip;
    assert.match(saved.id, /^clip_\d+$/);
    assert.equal(saved.url, `${cs.directUrl}/api/recordings/${saved.id}/video`);
    assert.ok(Date.parse(saved.end) > Date.parse(saved.start));
    const file = join(cs.sp.dir, 'media', saved.path);
    assert.equal((await stat(file)).size, saved.size, 'the clip file is on disk');
    const head = await readFile(file);
    assert.equal(head.subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4');
    const listed = await cs.api<{ items: { id: string; path: string; type: string }[] }>(
      'GET',
      `/api/recordings?camera=${CAMERA}`,
    );
    assert.ok(listed.body.items.some((r) => r.id === saved.id && r.type === 'clip' && r.path === saved.path));

    const recStatus = frames.filter((f) => f.topic === 'status/e2e_rec').map((f) => String(f.data.text ?? ''));
    assert.ok(
      recStatus.some((t) => /saved clip_/.test(t)),
      `status said saved: ${recStatus.join(' | ')}`,
    );
  });

  it('the editor fills the camera dropdown and tests the server from the browser', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${admin}/`);
      await page.waitForFunction(
        () => {
          const red = (globalThis as unknown as { RED?: { nodes?: { node: (id: string) => unknown } } }).RED;
          return !!red?.nodes?.node('e2e_rec');
        },
        undefined,
        { timeout: 60_000 },
      );
      // Open the deployed record node: its camera field becomes a dropdown of Camstack's cameras.
      await page.evaluate(() => {
        const red = (
          globalThis as unknown as {
            RED: { editor: { edit: (n: unknown) => void }; nodes: { node: (id: string) => unknown } };
          }
        ).RED;
        red.editor.edit(red.nodes.node('e2e_rec'));
      });
      const option = page.locator('.red-ui-tray select option[value="porch"]');
      await option.waitFor({ state: 'attached', timeout: 30_000 });
      assert.match((await option.textContent()) ?? '', /Porch \(porch\)/);
      assert.equal(await page.locator('.red-ui-tray select').first().isVisible(), true);
      // The config node's Test button lists the cameras with the URL in the form (deployed token).
      await page.evaluate(() => {
        const red = (
          globalThis as unknown as { RED: { editor: { editConfig: (a: string, t: string, id: string) => void } } }
        ).RED;
        red.editor.editConfig('', 'camstack-server', 'e2e_srv');
      });
      await page.locator('#node-config-camstack-test').click({ timeout: 30_000 });
      await page
        .locator('#node-config-camstack-test-result', { hasText: 'connected: 1 camera' })
        .waitFor({ timeout: 30_000 });
    } finally {
      await browser.close();
    }
  });

  it('stops cleanly: Node-RED exits on SIGINT with the Camstack nodes closed', async () => {
    const proc = red;
    assert.ok(proc);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGINT');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, redOut.slice(-2000));
    assert.doesNotMatch(redOut, /\[error\] \[camstack-/, 'no Camstack node logged an error');
  });
});
