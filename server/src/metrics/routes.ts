/** GET /api/metrics (Prometheus text) and GET /api/metrics.json (the sampler's snapshot). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { type Static, Type } from 'typebox';
import type { MetricsRegistry } from './registry.js';
import type { ProcessSampler } from './sampler.js';
import type { MetricsSnapshot } from './types.js';

const nullableNumber = (description?: string) =>
  Type.Union([Type.Number(), Type.Null()], description === undefined ? {} : { description });
const nullableInteger = (description?: string) =>
  Type.Union([Type.Integer(), Type.Null()], description === undefined ? {} : { description });

export const FfmpegProgressSchema = Type.Object(
  {
    frame: nullableInteger('Frames written so far'),
    fps: nullableNumber("FFmpeg's average frames per second"),
    bitrateKbps: nullableNumber('Output bitrate, kbit/s'),
    totalSizeBytes: nullableInteger('Bytes written so far'),
    outTimeUs: nullableInteger('Output position, microseconds'),
    speed: nullableNumber('Processing speed relative to real time'),
    dropFrames: nullableInteger(),
    dupFrames: nullableInteger(),
    ended: Type.Boolean({ description: 'The final progress block' }),
  },
  { description: 'Latest FFmpeg -progress block' },
);

export const ProcessMetricsSchema = Type.Object({
  name: Type.String({ description: 'Supervisor name, e.g. go2rtc, mediamtx, ffmpeg:front_door:clip' }),
  pid: nullableInteger(),
  state: Type.Union([
    Type.Literal('starting'),
    Type.Literal('running'),
    Type.Literal('backoff'),
    Type.Literal('failed'),
    Type.Literal('stopping'),
    Type.Literal('stopped'),
  ]),
  restarts: Type.Integer(),
  cpuPercent: nullableNumber('CPU since the previous sample, percent of one core (200 = two cores)'),
  cpuSecondsTotal: nullableNumber('CPU seconds of the process and its descendants'),
  rssBytes: nullableInteger('Resident memory of the process and its descendants'),
  openFds: nullableInteger('Open file descriptors of the process and its descendants'),
  processCount: nullableInteger('Processes in the tree (the process plus descendants)'),
  progress: Type.Union([FfmpegProgressSchema, Type.Null()]),
});

export const MetricsSnapshotSchema = Type.Object({
  at: Type.String({ format: 'date-time' }),
  system: Type.Object({
    loadavg: Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { description: '1, 5, 15 minute load' }),
    memTotalBytes: Type.Integer(),
    memFreeBytes: Type.Integer({ description: 'Memory available to new processes' }),
    cpuCount: Type.Integer(),
  }),
  processes: Type.Array(ProcessMetricsSchema),
});

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compile-time check: the schema describes exactly the MetricsSnapshot type. */
const schemaMatchesType: Equal<Static<typeof MetricsSnapshotSchema>, MetricsSnapshot> = true;
void schemaMatchesType;

export interface MetricsRoutesOptions {
  registry: MetricsRegistry;
  sampler: ProcessSampler;
}

/** Register with `app.register(metricsRoutes, { registry, sampler })`. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (fastify, { registry, sampler }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics',
        description:
          'Prometheus text exposition format (text/plain; version=0.0.4): supervised processes (camstack_process_*), ' +
          'FFmpeg jobs (camstack_ffmpeg_*), cameras (camstack_camera_*) and the Node server (camstack_node_*).',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format' }) },
      },
    },
    async (_req, reply) => {
      // Nobody keeps the sampler running: take one fresh sample for this scrape.
      if (!sampler.running) await sampler.sample();
      const text = await registry.text();
      return reply.type(registry.contentType).send(text);
    },
  );

  app.get(
    '/api/metrics.json',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Process and system metrics snapshot',
        description:
          'CPU, memory and file descriptors of every supervised process (with its descendants), the latest FFmpeg ' +
          'progress of each job, and system load. The same payload as the metrics.tick event.',
        response: { 200: MetricsSnapshotSchema },
      },
    },
    async () => (sampler.running ? sampler.snapshot() : await sampler.sample()),
  );
};
