/**
 * The composition root: the only module that knows every other one. Reads the configuration,
 * builds the logger, bus, engines and HTTP app, and owns start-up and shutdown.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MotionEventSources } from './camera-events/motion-source.js';
import { OnvifEventSources } from './camera-events/onvif-source.js';
import { cameraEventRoutes } from './camera-events/routes.js';
import { eventRules } from './camera-events/rules.js';
import { CameraEvents } from './camera-events/service.js';
import { CameraEventStore } from './camera-events/store.js';
import { toCameraView } from './cameras/api-schemas.js';
import { ConnectionTester } from './cameras/connection-test.js';
import { type EngineAccess, isRecorded, restreamUrl } from './cameras/engine-plan.js';
import { EngineReconciler } from './cameras/reconciler.js';
import { cameraRoutes } from './cameras/routes.js';
import { CameraRuntime } from './cameras/runtime.js';
import { CameraStore } from './cameras/store.js';
import { verifyStream } from './cameras/verify.js';
import { loadConfig } from './config/load.js';
import type { DetectionType } from './contract/index.js';
import { resolveBinaries } from './engines/binaries.js';
import { Engines } from './engines/engines.js';
import { DEFAULT_ENGINE_PORTS, type EnginePorts } from './engines/ports.js';
import { engineRoutes } from './engines/routes.js';
import { EventBus } from './events/bus.js';
import { eventsRoutes } from './events/routes.js';
import { HomeAssistantIntegration } from './hass/integration.js';
import { rtspReaderCredentials } from './hass/rtsp-credentials.js';
import { type AppDeps, buildApp } from './http/app.js';
import { type GuardOptions, ingressAllow, installGuard } from './http/guard.js';
import { registerOpenApi } from './http/openapi.js';
import { staticRoutes } from './http/static.js';
import { Lifecycle } from './lifecycle.js';
import { HlsViewers, hlsRoutes } from './live/hls.js';
import { MjpegHub } from './live/mjpeg.js';
import { MseRelay } from './live/mse-relay.js';
import { liveRoutes } from './live/routes.js';
import { createLogger, type Logger } from './log/logger.js';
import { SecretRedactor } from './log/redact.js';
import { MetricsRegistry } from './metrics/registry.js';
import { metricsRoutes } from './metrics/routes.js';
import { ProcessSampler } from './metrics/sampler.js';
import { onvifRoutes } from './onvif/routes.js';
import { recordingRoutes } from './recordings/routes.js';
import { RecordingService } from './recordings/service.js';
import { ThumbnailCache } from './recordings/thumbnails.js';
import { snapshotRoutes } from './snapshots/routes.js';
import { SnapshotService } from './snapshots/service.js';
import { reapOrphans } from './supervisor/orphans.js';
import { supervisorFromEnv } from './supervisor-api/client.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export interface RunningCamstack {
  port: number;
  logger: Logger;
  engines: Engines;
  stop: (reason: string) => Promise<void>;
}

/** `{ key: value }`, or `{}` when the value is unset (null: the part's own default). */
function optional<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * WebRTC ICE candidates: the `webrtc_candidates` option when given; else, in the add-on, the
 * host's IPv4 addresses from the Supervisor's network info, with the WebRTC port.
 */
async function webrtcCandidatesFor(
  configured: string[],
  port: number,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<string[]> {
  const supervisor = configured.length > 0 ? null : supervisorFromEnv(env);
  if (!supervisor) return configured;
  try {
    const candidates = (await supervisor.networkInfo()).ipv4.map((ip) => `${ip}:${port}`);
    logger.info({ candidates }, 'WebRTC candidates: the host addresses the Supervisor reports');
    return candidates;
  } catch (err) {
    logger.warn({ err: String(err) }, 'WebRTC candidates: no network info from the Supervisor; set webrtc_candidates');
    return [];
  }
}

export async function startCamstack(env: NodeJS.ProcessEnv = process.env): Promise<RunningCamstack> {
  // Options, cameras and every CAMSTACK_* variable (config/env.ts), read once and checked together.
  const config = loadConfig({ env });
  const e = config.env;
  const redactor = new SecretRedactor();
  for (const cam of config.cameras) {
    if (cam.password) redactor.add(cam.password);
    if (cam.onvif?.password) redactor.add(cam.onvif.password);
  }
  if (config.apiToken) redactor.add(config.apiToken);
  const logger = createLogger({ level: config.logLevel, redactor });
  const bus = new EventBus({
    onListenerError: ({ owner, event, err }) =>
      logger.error(
        { owner, event, err: err instanceof Error ? err.message : String(err) },
        `listener ${owner}/${event} failed`,
      ),
  });
  bus.on(
    'process.state',
    (e) =>
      logger.info(
        { proc: e.name, state: e.state, pid: e.pid, restarts: e.restarts, lastError: e.lastError ?? undefined },
        `${e.name} ${e.state}`,
      ),
    'main',
  );

  const workDir = join(config.dataDir, 'engines');
  const reaped = await reapOrphans(join(workDir, 'pids'), logger);
  if (reaped.length) logger.warn({ pids: reaped }, 'stopped engine processes left behind by a previous run');

  const backoffBaseMs = e.CAMSTACK_BACKOFF_BASE_MS;
  const enginePorts: EnginePorts = { ...DEFAULT_ENGINE_PORTS, ...e.CAMSTACK_ENGINE_PORTS };
  const webrtcCandidates = await webrtcCandidatesFor(config.webrtcCandidates, enginePorts.webrtc, env, logger);
  // Readers of the RTSP restream on other hosts (HA live cameras) need these; this box needs none.
  const rtspReader = await rtspReaderCredentials(config.integrations.rtspReader, config.dataDir);
  redactor.add(rtspReader.pass);
  const engines = new Engines({
    bus,
    logger,
    redactor,
    binaries: resolveBinaries(
      {
        go2rtc: e.CAMSTACK_GO2RTC_BIN,
        mediamtx: e.CAMSTACK_MEDIAMTX_BIN,
        ffmpeg: e.CAMSTACK_FFMPEG_BIN,
        ffprobe: e.CAMSTACK_FFPROBE_BIN,
      },
      env.PATH,
      e.CAMSTACK_CACHE_DIR,
    ),
    workDir,
    recordDir: config.mediaDir,
    ports: enginePorts,
    webrtcBind: e.CAMSTACK_WEBRTC_BIND,
    webrtcCandidates,
    rtspBind: e.CAMSTACK_RTSP_BIND,
    rtspReader,
    logLevel: config.logLevel === 'warning' ? 'warn' : config.logLevel,
    ...optional('segmentSeconds', e.CAMSTACK_SEGMENT_SECONDS),
    timing: {
      ...optional('healthIntervalMs', e.CAMSTACK_HEALTH_INTERVAL_MS),
      ...optional('unhealthyAfterMs', e.CAMSTACK_UNHEALTHY_AFTER_MS),
      ...(backoffBaseMs !== null ? { policy: { baseDelayMs: backoffBaseMs } } : {}),
    },
  });

  const store = new CameraStore({
    cameras: config.cameras,
    camerasFile: config.camerasFile,
    maxCameras: config.maxCameras,
    allowTestSources: config.allowTestSources,
    bus,
    redactor,
  });
  const engineRunning = (name: 'go2rtc' | 'mediamtx') => engines.get(name).state === 'running';
  const engineAccess: EngineAccess = {
    cameras: () => store.list(),
    go2rtc: engines.go2rtcApi,
    mediamtx: engines.mediamtxApi,
    engineRunning,
    bus,
    logger,
    ports: engines.ports,
  };
  const reconciler = new EngineReconciler({
    ...engineAccess,
    graceSeconds: config.onDemandGraceSeconds,
    ...optional('intervalMs', e.CAMSTACK_RECONCILE_MS),
  });
  const ffmpegBin = engines.binaries.ffmpeg;
  const extraViewers = new Map<string, number>();
  // Late-bound: the MJPEG hub needs the runtime's internal-reader registry and vice versa.
  let mjpeg: MjpegHub | null = null;
  const runtime = new CameraRuntime({
    ...engineAccess,
    verify: (url, options) => verifyStream(ffmpegBin, url, options),
    beforeVerify: () => reconciler.schedule(),
    extra: (id) => ({ viewers: extraViewers.get(id) ?? 0, transcoding: mjpeg?.isTranscoding(id) ?? false }),
    ...optional('pollIntervalMs', e.CAMSTACK_STATUS_POLL_MS),
  });
  mjpeg = new MjpegHub({
    ffmpegBin,
    restreamUrl: (id) => restreamUrl(id, engines.ports),
    acquireInternalReader: (id) => runtime.acquireInternalReader(id),
    bus,
    logger,
    redactor,
    onProgress: (name, progress) => sampler.recordProgress(name, progress),
    pidDir: join(workDir, 'pids'),
  });
  const liveHub = mjpeg;
  const acquireViewer = (id: string) => {
    extraViewers.set(id, (extraViewers.get(id) ?? 0) + 1);
    void runtime.poll();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      extraViewers.set(id, Math.max(0, (extraViewers.get(id) ?? 1) - 1));
      void runtime.poll();
    };
  };
  // HLS clients are counted as viewers while their requests keep coming.
  const hlsViewers = new HlsViewers(acquireViewer);
  // MSE viewers share one go2rtc consumer per camera, which keeps the latest GOP; recorded
  // cameras (pulled anyway) keep theirs open so even a first viewer starts at once.
  const mseRelay = new MseRelay({
    upstreamUrl: (id) => `${engines.go2rtcApi.base.replace(/^http/, 'ws')}/api/ws?src=${encodeURIComponent(id)}`,
    go2rtcRunning: () => engineRunning('go2rtc'),
    pinned: () =>
      store
        .list()
        .filter((c) => c.enabled && isRecorded(c))
        .map((c) => c.id),
    acquireViewer,
    logger,
    ...optional('warmMs', e.CAMSTACK_MSE_WARM_MS),
  });
  const snapshots = new SnapshotService({
    store,
    runtime,
    go2rtc: engines.go2rtcApi,
    go2rtcRunning: () => engineRunning('go2rtc'),
    syncEngines: () => reconciler.schedule(),
    ffmpegBin,
    ports: engines.ports,
    mediaDir: config.mediaDir,
    bus,
    logger,
    redactor,
    heldKeyframe: (id) => mseRelay.heldKeyframe(id),
  });
  const recordings = new RecordingService({
    mediaDir: config.mediaDir,
    indexFile: join(config.dataDir, 'recordings.db'),
    cameras: () => store.list(),
    bus,
    logger,
    redactor,
    ffmpeg: ffmpegBin,
    ffprobe: engines.binaries.ffprobe,
    ports: engines.ports,
    recorder: { pid: () => engines.mediamtx.pid, running: () => engineRunning('mediamtx') },
    acquireInternalReader: (id) => runtime.acquireInternalReader(id),
    pidDir: join(workDir, 'pids'),
    storageMaxBytes: config.storageMaxBytes,
    storageMinFreePercent: config.storageMinFreePercent,
    ...optional('scanIntervalMs', e.CAMSTACK_RECORDING_SCAN_MS),
    ...optional('fullScanIntervalMs', e.CAMSTACK_RECORDING_FULL_SCAN_MS),
    ...optional('retentionIntervalMs', e.CAMSTACK_RETENTION_MS),
    ...optional('bufferSeconds', e.CAMSTACK_BUFFER_SECONDS),
  });
  const cameraEvents = new CameraEvents({
    store: new CameraEventStore(join(config.dataDir, 'events.db')),
    bus,
    logger,
    mediaDir: config.mediaDir,
    rules: (id) => {
      const camera = store.get(id);
      return camera ? eventRules(camera) : null;
    },
    retention: () => store.list().map((c) => ({ camera: c.id, days: c.recording.clipRetainDays })),
    cameraName: (id) => store.get(id)?.name ?? id,
    clips: { start: (id, request) => recordings.startClip(id, request) },
    frameAt: (id, atMs) => recordings.frameAt(id, atMs),
    liveFrame: async (id) => (await snapshots.get(id, { maxAgeMs: 2000 })).jpeg,
    announce: (a): Promise<void> => homeAssistant.cameraEvent(a),
  });
  const onvifSources = new OnvifEventSources({
    cameras: () => store.list(),
    bus,
    logger,
    report: (r) => cameraEvents.report(r),
  });
  const motionSources = new MotionEventSources({
    cameras: () => store.list(),
    bus,
    logger,
    redactor,
    ffmpegBin,
    pidDir: join(workDir, 'pids'),
    onProgress: (name, progress) => sampler.recordProgress(name, progress),
    restreamUrl: (id) => restreamUrl(id, engines.ports),
    acquireInternalReader: (id) => runtime.acquireInternalReader(id),
    report: (r) => cameraEvents.report(r),
  });
  const thumbnails = new ThumbnailCache({
    ffmpeg: ffmpegBin,
    cacheDir: join(config.dataDir, 'thumbnails'),
    recordings,
    logger,
  });
  bus.on('recording.deleted', (e) => void thumbnails.forget(e.id), 'main');
  const connectionTester = new ConnectionTester({
    verify: (url, options, signal) => verifyStream(ffmpegBin, url, options, signal),
    redact: (text) => redactor.redact(text),
  });
  const homeAssistant = new HomeAssistantIntegration({
    config: config.integrations,
    timing: {
      mqttBirthDelayMs: e.CAMSTACK_MQTT_BIRTH_DELAY_MS,
      mqttReconnectMs: e.CAMSTACK_MQTT_RECONNECT_MS,
      mqttStorageMs: e.CAMSTACK_MQTT_STORAGE_MS,
      mqttDiscoveryCollectMs: e.CAMSTACK_MQTT_DISCOVERY_COLLECT_MS,
      mqttMigrationStepMs: e.CAMSTACK_MQTT_MIGRATION_STEP_MS,
      hassRetryMs: e.CAMSTACK_HA_RETRY_MS,
    },
    version: pkg.version,
    bus,
    logger,
    redactor,
    supervisor: supervisorFromEnv(env),
    cameras: store,
    status: runtime,
    engineHealth: () => engines.health(),
    snapshots,
    recordings,
    cameraEvents: {
      types: (id): DetectionType[] => cameraEvents.types(id),
      activeTypes: (id): DetectionType[] => cameraEvents.activeTypes(id),
    },
    mediaDir: config.mediaDir,
    dataDir: config.dataDir,
    rtsp: { port: engines.ports.mediamtxRtsp, reader: rtspReader },
  });
  const metrics = new MetricsRegistry({ bus });
  const sampler = new ProcessSampler({
    processes: () => [engines.go2rtc, engines.mediamtx, ...liveHub.processes(), ...motionSources.processes()],
    registry: metrics,
    bus,
  });

  // One Fastify app per listener (ingress, and the token-protected direct port when api_token is
  // set), built from the same plugins; each gets its own guard (http/guard.ts).
  const listenerDeps = (guard: GuardOptions): AppDeps => ({
    logger,
    version: pkg.version,
    engineHealth: () => engines.health(),
    integrationsHealth: () => homeAssistant.health(),
    plugins: [
      (a) => installGuard(a, guard),
      (a) => registerOpenApi(a, { version: pkg.version }),
      (a) => recordingRoutes(a, { recordings, store, thumbnails }),
      (a) => snapshotRoutes(a, { snapshots }),
      (a) => onvifRoutes(a),
      (a) =>
        cameraEventRoutes(a, {
          events: cameraEvents,
          sources: (id) => ({ onvif: onvifSources.status(id), motion: motionSources.status(id) }),
        }),
      (a) => cameraRoutes(a, { store, status: runtime, tester: connectionTester }),
      (a) => engineRoutes(a, { engine: (name) => engines.get(name) }),
      (a) =>
        liveRoutes(a, {
          store,
          go2rtc: engines.go2rtcApi,
          go2rtcRunning: () => engineRunning('go2rtc'),
          mjpeg: liveHub,
          relay: mseRelay,
          acquireViewer,
          logger,
        }),
      (a) =>
        hlsRoutes(a, {
          store,
          hlsBase: `http://127.0.0.1:${engines.ports.mediamtxHls}`,
          mediamtxRunning: () => engineRunning('mediamtx'),
          viewers: hlsViewers,
          logger,
        }),
      (a) => eventsRoutes(a, { bus, status: runtime, toView: toCameraView, acquireLive: () => sampler.acquire() }),
      async (a) => {
        await a.register(metricsRoutes, { registry: metrics, sampler });
      },
      // Last: the panel (server/public) at / with an index.html fallback for its client routes.
      (a) => staticRoutes(a),
    ],
  });
  const app = await buildApp(
    listenerDeps({ listener: 'ingress', allow: ingressAllow(e.CAMSTACK_INGRESS_ALLOW, Boolean(env.SUPERVISOR_TOKEN)) }),
  );
  const direct =
    config.apiPort !== null && config.apiToken !== null
      ? await buildApp(
          listenerDeps({
            listener: 'direct',
            token: config.apiToken,
            ...optional('rateLimitMax', e.CAMSTACK_API_RATE_LIMIT),
          }),
        )
      : null;
  const host = e.CAMSTACK_HOST;
  const port = e.CAMSTACK_PORT ?? config.ingressPort;
  let boundPort = port;
  let closingHttp: Promise<void> | null = null;
  const closeHttp = () => {
    // Fastify is built with forceCloseConnections: open event streams, WebSockets and MJPEG/MP4
    // responses are ended, not waited for.
    closingHttp ??= Promise.all(
      [app, direct].map((a) =>
        a?.close().catch((err: unknown) => logger.error({ err }, 'closing the HTTP server failed')),
      ),
    ).then(() => undefined);
    return closingHttp;
  };

  // The parts, in start order; they stop in reverse (lifecycle.ts). The listeners come first, so
  // a busy port fails start-up before any engine is spawned; they close as soon as a stop begins.
  const lifecycle = new Lifecycle(
    [
      {
        name: 'http',
        start: async () => {
          await app.listen({ host, port });
          if (direct && config.apiPort !== null) await direct.listen({ host, port: config.apiPort });
          const address = app.server.address();
          boundPort = typeof address === 'object' && address ? address.port : port;
        },
        quiesce: () => void closeHttp(),
        stop: closeHttp,
      },
      {
        name: 'engines',
        start: () => engines.start(),
        quiesce: () => engines.holdRestarts(),
        stop: () => engines.stop(),
        // SIGINT, SIGTERM after 5 s, SIGKILL after 3 more: always kept for the engines.
        stopTimeoutMs: 10_000,
        reserveMs: 9_000,
      },
      {
        name: 'reconciler',
        start: () => reconciler.start(),
        quiesce: () => reconciler.quiesce(),
        stop: () => reconciler.stop(),
      },
      {
        name: 'camera-runtime',
        start: () => runtime.start(),
        quiesce: () => runtime.quiesce(),
        stop: () => runtime.stop(),
      },
      { name: 'mjpeg', stop: () => liveHub.stop() },
      { name: 'hls', stop: () => hlsViewers.stop() },
      { name: 'mse-relay', start: () => mseRelay.start(), stop: () => mseRelay.stop() },
      {
        name: 'metrics',
        stop: () => {
          sampler.stop();
          metrics.close();
        },
      },
      { name: 'snapshots', stop: () => snapshots.close() },
      // Open clips are saved while the engines still run.
      { name: 'recordings', start: () => recordings.start(), stop: () => recordings.stop(), stopTimeoutMs: 8_000 },
      // Lasting events end (and extend their clips once more) before the recordings stop.
      {
        name: 'camera-events',
        start: () => cameraEvents.start(),
        stop: () => cameraEvents.stop(),
        stopTimeoutMs: 3_000,
      },
      // Camstack's motion detectors (their FFmpegs reaped before the recordings stop).
      {
        name: 'motion-events',
        start: () => motionSources.start(),
        stop: () => motionSources.stop(),
        stopTimeoutMs: 4_000,
      },
      // The cameras' own ONVIF events (unsubscribed first when stopping).
      {
        name: 'onvif-events',
        start: () => onvifSources.start(),
        stop: () => onvifSources.stop(),
        stopTimeoutMs: 3_000,
      },
      // Last to start, first to stop: MQTT says "offline" while everything still runs.
      {
        name: 'home-assistant',
        start: () => homeAssistant.start({ httpPort: boundPort }),
        stop: () => homeAssistant.stop(),
        stopTimeoutMs: 2_000,
      },
    ],
    logger,
  );
  await lifecycle.start();
  logger.info(
    { host, port: boundPort, apiPort: direct ? config.apiPort : null, cameras: config.cameras.length },
    'Camstack is listening',
  );

  const stop = async (reason: string): Promise<void> => {
    const report = await lifecycle.stop(reason);
    const left = [...report.late, ...report.failed];
    if (left.length === 0) logger.info({ ms: report.ms }, 'stopped; every child process has exited');
    else logger.warn({ ms: report.ms, late: report.late, failed: report.failed }, 'stopped; some parts did not finish');
  };
  return { port: boundPort, logger, engines, stop };
}

async function runAsProcess(): Promise<void> {
  // Nothing a forgotten promise rejects with may end or silence the server: it is logged.
  let log: Logger | null = null;
  process.on('unhandledRejection', (err) => {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    if (log) log.error({ err: text }, 'unhandled promise rejection');
    else process.stderr.write(`unhandled promise rejection: ${text}\n`);
  });
  let running: RunningCamstack;
  try {
    running = await startCamstack();
  } catch (err) {
    process.stderr.write(`Camstack could not start:\n${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  log = running.logger;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      running.stop(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void runAsProcess();
}
