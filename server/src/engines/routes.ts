/**
 * The engines API: the supervised go2rtc and MediaMTX, and their manual restart — the only way
 * out of `failed` (more than 5 restarts in 10 minutes). A restart stops the process gracefully,
 * resets its restart policy and starts it again; `process.state` events follow as usual.
 */
import { Type } from 'typebox';
import type { EngineName, EngineView } from '../contract/index.js';
import type { CamstackApp } from '../http/app.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { EngineHealthSchema } from '../http/health.js';

export const ENGINE_NAMES: readonly EngineName[] = ['go2rtc', 'mediamtx'];

/** What the routes need of a supervised engine (ManagedProcess). */
export interface RestartableEngine {
  readonly state: string;
  readonly startedAt: Date | null;
  snapshot(): { state: EngineView['state']; pid: number | null; restarts: number; lastError: string | null };
  restart(): Promise<void>;
  waitForState(state: readonly EngineView['state'][], timeoutMs: number): Promise<unknown>;
}

export interface EngineRoutesOptions {
  engine: (name: EngineName) => RestartableEngine;
  /** How long a restart waits for the engine to answer before it returns its state. Default 20 s. */
  restartWaitMs?: number;
}

export const EngineViewSchema = Type.Object(
  {
    name: Type.Enum([...ENGINE_NAMES]),
    ...EngineHealthSchema.properties,
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the running process was started.',
    }),
  },
  { additionalProperties: false, description: 'A supervised engine.' },
);
export type { EngineView };

// Compile-time guard: the schema describes the contract's view.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewMatches: Same<Type.Static<typeof EngineViewSchema>, EngineView> = true;
void viewMatches;

const EngineParamsSchema = Type.Object(
  { name: Type.String({ pattern: '^[a-z0-9_-]{1,32}$', description: 'go2rtc or mediamtx.' }) },
  { additionalProperties: false },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `problems` names every offending field.',
  404: 'No engine with this name (go2rtc or mediamtx).',
  500: 'Internal error.',
};

/** Pure: the API's view of an engine. */
export function engineView(name: EngineName, engine: RestartableEngine): EngineView {
  const startedAt = engine.startedAt;
  return { name, ...engine.snapshot(), startedAt: startedAt === null ? null : startedAt.toISOString() };
}

function isEngineName(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

export async function engineRoutes(app: CamstackApp, options: EngineRoutesOptions): Promise<void> {
  const mustName = (name: string): EngineName => {
    if (!isEngineName(name)) {
      throw new ApiError(404, 'not_found', `no engine "${name}" (go2rtc or mediamtx)`, [
        { field: 'name', message: 'must be go2rtc or mediamtx' },
      ]);
    }
    return name;
  };

  app.get(
    '/api/engines',
    {
      schema: {
        tags: ['engines'],
        summary: 'The supervised engines',
        description: 'go2rtc and MediaMTX: state, pid, restarts and the reason of the last failure.',
        response: { 200: Type.Array(EngineViewSchema), ...errorResponses(ERROR_DESCRIPTIONS, [500]) },
      },
    },
    async () => ENGINE_NAMES.map((name) => engineView(name, options.engine(name))),
  );

  app.post(
    '/api/engines/:name/restart',
    {
      schema: {
        tags: ['engines'],
        summary: 'Restart an engine',
        description:
          'Stops the engine gracefully and starts it again with a fresh restart budget; also the way out of ' +
          '`failed`. Answers once it runs again (its API answered), failed, or after about 20 s, with its state.',
        params: EngineParamsSchema,
        response: { 200: EngineViewSchema, ...errorResponses(ERROR_DESCRIPTIONS, [400, 404, 500]) },
      },
    },
    async (request) => {
      const name = mustName(request.params.name);
      const engine = options.engine(name);
      request.log.info({ engine: name }, 'manual engine restart');
      await engine.restart();
      await engine.waitForState(['running', 'failed', 'stopped'], options.restartWaitMs ?? 20_000).catch(() => {
        // still starting or in backoff: the state says so
      });
      return engineView(name, engine);
    },
  );
}
