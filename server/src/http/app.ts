import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type Options as AjvOptions, type AnySchema } from 'ajv';
import ajvFormats from 'ajv-formats';
import Fastify, { type FastifySchemaCompiler, LogController } from 'fastify';
import { Type } from 'typebox';
import type { EngineHealth, EngineName } from '../contract/index.js';
import type { Logger } from '../log/logger.js';
import { clientErrorResponse, frameworkErrorBody, registerErrorHandler } from './errors.js';
import { SECURITY_HEADERS } from './guard.js';
import { HealthSchema, healthReport, type IntegrationsHealth } from './health.js';

export interface AppDeps {
  logger: Logger;
  version: string;
  /** Current state of the engines (snapshots; no I/O). */
  engineHealth: () => Record<EngineName, EngineHealth>;
  /** MQTT and Home Assistant connection states (reported beside the engines, never degrading them). */
  integrationsHealth?: () => IntegrationsHealth;
  now?: () => number;
  /** Route plugins (cameras, OpenAPI…), called in order on the root instance before the health routes. */
  plugins?: ((app: CamstackApp) => Promise<void>)[];
}

/** Largest JSON body the API accepts (a camera definition is far smaller). */
export const BODY_LIMIT = 64 * 1024;

/**
 * Ajv for request validation: unknown properties are errors (never stripped), all errors are
 * reported, and `verbose` keeps the offending values and schemas so errors can name the field
 * and the allowed range (see errors.ts). JSON bodies are validated WITHOUT type coercion
 * (`"enabled": "yes"` or `"retainDays": "7"` are 400s); path parameters, query strings and
 * headers, which are always text, are coerced (`coerceTypes: 'array'`).
 */
const AJV_OPTIONS: AjvOptions = {
  allErrors: true,
  removeAdditional: false,
  useDefaults: true,
  verbose: true,
  addUsedSchema: false,
};

/** Schemas are inline (TypeBox); shared schemas from `app.addSchema` are not supported. */
function createValidatorCompiler(): FastifySchemaCompiler<AnySchema> {
  const body = new Ajv({ ...AJV_OPTIONS, coerceTypes: false });
  const text = new Ajv({ ...AJV_OPTIONS, coerceTypes: 'array' });
  for (const ajv of [body, text]) ajvFormats.default(ajv);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : text;
    const id = typeof schema === 'object' && typeof schema.$id === 'string' ? schema.$id : undefined;
    return (id === undefined ? undefined : ajv.getSchema(id)) ?? ajv.compile(schema);
  };
}

/**
 * The Fastify application, without listening: tests drive it with inject(), main.ts listens.
 * Routes live under /api; HA ingress strips its own prefix before proxying, so paths are the same
 * behind ingress and on the direct port.
 */
function createFastify(logger: Logger) {
  return Fastify({
    loggerInstance: logger,
    // A stop ends open event streams, WebSockets and MJPEG/MP4 responses instead of waiting for them.
    forceCloseConnections: true,
    bodyLimit: BODY_LIMIT,
    // Per-request lines would drown the log (the panel polls); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // A broken URL or an over-long path parameter is answered before any hook runs: still in the
    // one error shape, with the security headers.
    frameworkErrors: (err, _request, reply) => {
      const body = frameworkErrorBody(err);
      const raw = reply.raw;
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) raw.setHeader(name, value);
      const text = JSON.stringify(body);
      raw.writeHead(body.statusCode, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      raw.end(text);
    },
    // Requests Node's HTTP parser refuses (headers over 16 KiB, garbage): the same shape too.
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err as NodeJS.ErrnoException, SECURITY_HEADERS));
      socket.destroy(err);
    },
  })
    .withTypeProvider<TypeBoxTypeProvider>()
    .setValidatorCompiler(createValidatorCompiler());
}

export type CamstackApp = ReturnType<typeof createFastify>;

export async function buildApp(deps: AppDeps): Promise<CamstackApp> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const app = createFastify(deps.logger);
  registerErrorHandler(app);
  for (const plugin of deps.plugins ?? []) await plugin(app);

  app.get('/api/health', { schema: { response: { 200: HealthSchema } } }, async () =>
    healthReport(deps.engineHealth(), deps.version, (now() - startedAt) / 1000, deps.integrationsHealth?.()),
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
      const report = healthReport(
        deps.engineHealth(),
        deps.version,
        (now() - startedAt) / 1000,
        deps.integrationsHealth?.(),
      );
      return reply.code(report.status === 'ok' ? 200 : 503).send(report);
    },
  );

  return app;
}
