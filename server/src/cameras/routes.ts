/**
 * The camera API: configuration (CRUD on the {@link CameraStore}) and runtime status. Register
 * with `app.register(cameraRoutes, { store, status })`. Every route has full JSON schemas, so
 * requests are validated before a handler runs and the OpenAPI document lists them all.
 */
import { Type } from 'typebox';
import type { CamstackApp } from '../http/app.js';
import { ApiError, type ApiErrorSchema, errorResponses } from '../http/errors.js';
import { ingressPrefix } from '../http/ingress.js';
import {
  CameraIdParamsSchema,
  CameraInputSchema,
  CameraPreviewInputSchema,
  CameraStatusSchema,
  CameraTestResultSchema,
  CameraUpdateSchema,
  CameraViewSchema,
  type CameraWithStatus,
  CameraWithStatusSchema,
  OverviewSchema,
  toCameraView,
} from './api-schemas.js';
import type { ConnectionTester } from './connection-test.js';
import { type CameraStatus, type CameraStatusSource, initialStatus } from './status.js';
import type { CameraStore } from './store.js';

export interface CameraRoutesOptions {
  store: CameraStore;
  status: CameraStatusSource;
  /** The dry-run connection test (`POST /api/cameras/test`); without it the route is not offered. */
  tester?: ConnectionTester;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `problems` names every offending field.',
  404: 'No camera with this id.',
  409: 'Conflict: duplicate id, a read-only camera (add-on configuration) or max_cameras reached.',
  413: 'Request body larger than 64 KiB.',
  415: 'Content-Type is not application/json.',
  429: 'Other connection tests are running; try again in a few seconds.',
  500: 'Internal error, or the cameras file could not be written (nothing was changed).',
};

/** Error responses of a route, all with the one error shape. */
function errors(...codes: number[]): Record<number, typeof ApiErrorSchema> {
  return errorResponses(ERROR_DESCRIPTIONS, codes);
}

function locationOf(id: string, ingressPath: string | string[] | undefined): string {
  return `${ingressPrefix(ingressPath)}/api/cameras/${id}`;
}

export async function cameraRoutes(app: CamstackApp, options: CameraRoutesOptions): Promise<void> {
  const { store, status } = options;

  const mustGet = (id: string) => {
    const camera = store.get(id);
    if (camera === undefined) throw new ApiError(404, 'not_found', `no camera with id "${id}"`);
    return camera;
  };
  const statusOf = (id: string): CameraStatus => status.get(id) ?? initialStatus(id);
  const withStatus = (id: string): CameraWithStatus => ({ camera: toCameraView(mustGet(id)), status: statusOf(id) });

  app.get(
    '/api/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: 'List cameras',
        description: 'Every camera (add-on configuration first, then the cameras file), without credentials.',
        response: { 200: Type.Array(CameraViewSchema), ...errors(500) },
      },
    },
    async () => store.list().map(toCameraView),
  );

  app.post(
    '/api/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Add a camera',
        description:
          'Validates the camera completely, writes the cameras file, then starts using it. Credentials in the ' +
          'source URL are split out and stored apart; they are never returned.',
        body: CameraInputSchema,
        response: {
          201: Type.Object(CameraViewSchema.properties, {
            additionalProperties: false,
            description: 'Created; `Location` names the new camera.',
          }),
          ...errors(400, 409, 413, 415, 500),
        },
      },
    },
    async (request, reply) => {
      const camera = await store.add(request.body);
      return reply
        .code(201)
        .header('location', locationOf(camera.id, request.headers['x-ingress-path']))
        .send(toCameraView(camera));
    },
  );

  const tester = options.tester;
  if (tester) {
    app.post(
      '/api/cameras/test',
      {
        schema: {
          tags: ['cameras'],
          summary: 'Test a camera connection (dry run)',
          description:
            'Validates the camera like POST /api/cameras (the id is optional and may be taken) and reads a few ' +
            'frames straight from the camera, within about 6 s. Nothing is saved and no engine is changed. With ' +
            'the id of a configured camera the fields are merged over it as in PUT, so omitted credentials are the ' +
            'stored ones — only while the source keeps its scheme, host and port. The answer is 200 either way: ' +
            '`ok` with codec, size and frame rate, or the camera own reason ("401 Unauthorized from camera…"), ' +
            'never with credentials.',
          body: CameraPreviewInputSchema,
          response: { 200: CameraTestResultSchema, ...errors(400, 413, 415, 429, 500) },
        },
      },
      async (request, reply) => {
        const camera = store.preview(request.body);
        // The client gave up (closed the connection): stop FFmpeg rather than finish for nobody.
        const gone = new AbortController();
        const onClose = () => {
          if (!reply.raw.writableFinished) gone.abort();
        };
        reply.raw.once('close', onClose);
        try {
          return await tester.test(camera, gone.signal);
        } finally {
          reply.raw.off('close', onClose);
        }
      },
    );
  }

  app.get(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Get a camera',
        params: CameraIdParamsSchema,
        response: { 200: CameraViewSchema, ...errors(400, 404, 500) },
      },
    },
    async (request) => toCameraView(mustGet(request.params.id)),
  );

  app.put(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Change a camera',
        description:
          'A partial update: omitted fields keep their value. username/password: omitted keeps, null removes. ' +
          'The id cannot change. Cameras from the add-on configuration are read-only (409).',
        params: CameraIdParamsSchema,
        body: CameraUpdateSchema,
        response: { 200: CameraViewSchema, ...errors(400, 404, 409, 413, 415, 500) },
      },
    },
    async (request) => toCameraView(await store.update(request.params.id, request.body)),
  );

  app.delete(
    '/api/cameras/:id',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Remove a camera',
        description: 'Removes the camera from the cameras file. Its recordings are kept.',
        params: CameraIdParamsSchema,
        response: { 204: Type.Null({ description: 'Removed.' }), ...errors(400, 404, 409, 500) },
      },
    },
    async (request, reply) => {
      await store.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/cameras/:id/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Runtime status of a camera',
        params: CameraIdParamsSchema,
        response: { 200: CameraStatusSchema, ...errors(400, 404, 500) },
      },
    },
    async (request) => statusOf(mustGet(request.params.id).id),
  );

  app.get(
    '/api/cameras/:id/full',
    {
      schema: {
        tags: ['cameras', 'status'],
        summary: 'A camera with its runtime status',
        params: CameraIdParamsSchema,
        response: { 200: CameraWithStatusSchema, ...errors(400, 404, 500) },
      },
    },
    async (request) => withStatus(request.params.id),
  );

  app.get(
    '/api/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Runtime status of every camera',
        description: 'One entry per configured camera, in configuration order.',
        response: { 200: Type.Array(CameraStatusSchema), ...errors(500) },
      },
    },
    async () => store.list().map((camera) => statusOf(camera.id)),
  );

  app.get(
    '/api/overview',
    {
      schema: {
        tags: ['cameras', 'status'],
        summary: 'Every camera with its runtime status',
        description: 'Configuration and status together, for dashboards: one request instead of 1 + N.',
        response: { 200: OverviewSchema, ...errors(500) },
      },
    },
    async () => ({
      cameras: store.list().map((camera) => ({ camera: toCameraView(camera), status: statusOf(camera.id) })),
    }),
  );
}
