import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import { Type } from 'typebox';
import type { EngineHealth, EngineName } from '../engines/engines.js';
import type { Logger } from '../log/logger.js';
import { HealthSchema, healthReport } from './health.js';

export interface AppDeps {
  logger: Logger;
  version: string;
  /** Current state of the engines (snapshots; no I/O). */
  engineHealth: () => Record<EngineName, EngineHealth>;
  now?: () => number;
}

/** Largest JSON body the API accepts (a camera definition is far smaller). */
export const BODY_LIMIT = 64 * 1024;

/**
 * The Fastify application, without listening: tests drive it with inject(), main.ts listens.
 * Routes live under /api; HA ingress strips its own prefix before proxying, so paths are the same
 * behind ingress and on the direct port.
 */
function createFastify(logger: Logger) {
  return Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    // Per-request lines would drown the log (the panel polls); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
}

export type CamstackApp = ReturnType<typeof createFastify>;

export async function buildApp(deps: AppDeps): Promise<CamstackApp> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const app = createFastify(deps.logger);

  app.get('/api/health', { schema: { response: { 200: HealthSchema } } }, async () =>
    healthReport(deps.engineHealth(), deps.version, (now() - startedAt) / 1000),
  );

  // Liveness: the server answers. Readiness: both engines are running.
  app.get(
    '/api/health/live',
    { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({
      status: 'ok' as const,
    }),
  );
  app.get(
    '/api/health/ready',
    { schema: { response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_req, reply) => {
      const report = healthReport(deps.engineHealth(), deps.version, (now() - startedAt) / 1000);
      return reply.code(report.status === 'ok' ? 200 : 503).send(report);
    },
  );

  return app;
}
