/**
 * The add-on as a Raspberry Pi gets it: the same addon/Dockerfile built with --platform
 * linux/arm64 (engines cross-compiled on this machine, the arm64 bookworm base, Node.js for arm64)
 * and run under qemu-user-static emulation on the same Supervisor-like network as on amd64. Slow by
 * nature (emulation), so the short form: the engines start, the camera is verified, live MJPEG and
 * a snapshot answer, a clip is recorded to /media and is ffprobe-clean, and `docker stop` is clean.
 *
 * Run by `npm run test:image` (scripts/test-image.sh: binfmt and the arm64 base image first).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bearer, call, ffprobe, mediaFiles, recordClip, waitCameraOnline, waitReady } from './checks.js';
import { buildImage, docker, dockerOk, imageSizeMb, log } from './docker.js';
import { CAMERA_ID, removeLeftovers, type Stack, startStack } from './harness.js';

const ARCH = 'arm64';
const TAG = `camstack-test/addon:${ARCH}-${process.pid}`;
const KEEP = process.env.CAMSTACK_IMAGE_KEEP === '1';

describe(`the add-on image on ${ARCH} (aarch64), under emulation`, () => {
  let stack: Stack;

  before(async () => {
    removeLeftovers();
    log(`building addon/Dockerfile for linux/${ARCH} (log: /tmp/camstack-image-build-${ARCH}.log)…`);
    const buildS = await buildImage(ARCH, TAG, `/tmp/camstack-image-build-${ARCH}.log`);
    log(`built ${TAG} in ${buildS.toFixed(0)} s; image size ${imageSizeMb(TAG).toFixed(0)} MB`);
    // A small camera: every frame is decoded and encoded under emulation.
    stack = await startStack({
      image: TAG,
      platform: `linux/${ARCH}`,
      name: `${ARCH}-${process.pid}`,
      camera: { width: 320, height: 240, fps: 5 },
    });
    const { startedAt } = stack.startAddon();
    await waitReady(stack, 300_000);
    log(`ready (engines running) ${((Date.now() - startedAt) / 1000).toFixed(1)} s after docker run, emulated`);
  });

  after(async () => {
    if (stack) {
      writeFileSync(`/tmp/camstack-image-addon-${ARCH}.log`, stack.logs());
      await stack.close();
    }
    if (!KEEP) docker(['image', 'rm', '-f', TAG]);
  });

  it('runs aarch64 code: the image, Node.js, go2rtc and MediaMTX are arm64', () => {
    const arch = JSON.parse(dockerOk(['image', 'inspect', '-f', '{{json .Architecture}}', TAG])) as string;
    assert.equal(arch, 'arm64');
    assert.equal(dockerOk(['exec', stack.addon, 'uname', '-m']), 'aarch64');
    assert.equal(dockerOk(['exec', stack.addon, 'node', '-p', 'process.arch']), 'arm64');
    const label = dockerOk(['image', 'inspect', '-f', '{{index .Config.Labels "io.hass.arch"}}', TAG]);
    assert.equal(label, 'aarch64');
  });

  it('the engines run and the camera is verified', async () => {
    const engines = await call(`${stack.direct}/api/engines`, { headers: bearer(stack.apiToken) });
    assert.equal(engines.status, 200, engines.text);
    await waitCameraOnline(stack, 240_000);
  });

  it('live MJPEG and a snapshot answer', async () => {
    const snapshot = await call(`${stack.direct}/api/cameras/${CAMERA_ID}/snapshot.jpg`, {
      headers: bearer(stack.apiToken),
      timeoutMs: 90_000,
    });
    assert.equal(snapshot.status, 200, snapshot.text.slice(0, 300));
    assert.equal(snapshot.body.subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG');
    const mjpeg = await call(`${stack.direct}/api/cameras/${CAMERA_ID}/mjpeg`, {
      headers: bearer(stack.apiToken),
      streamBytes: 4096,
      timeoutMs: 90_000,
    });
    assert.equal(mjpeg.status, 200);
    assert.match(String(mjpeg.headers['content-type']), /^multipart\/x-mixed-replace/);
    assert.ok(mjpeg.body.includes(Buffer.from([0xff, 0xd8])), 'a JPEG frame in the stream');
  });

  it('records a clip to the /media volume, ffprobe-clean', async () => {
    const { probe } = await recordClip(stack, 4, 240_000);
    log(`arm64 clip: ${probe.durationS.toFixed(1)} s, ffprobe-clean`);
  });

  it('docker stop ends cleanly, every file valid', () => {
    const t0 = Date.now();
    dockerOk(['stop', stack.addon], { timeoutMs: 60_000 });
    const stopS = (Date.now() - t0) / 1000;
    log(`arm64 docker stop took ${stopS.toFixed(1)} s`);
    assert.match(stack.logs(), /every child process has exited/);
    for (const f of mediaFiles(stack.media)) assert.ok(ffprobe(f).ok, f);
  });
});
