/**
 * Adding a camera from ONVIF: `POST /api/onvif/discover` (a WS-Discovery probe on the add-on's
 * networks, and a unicast probe to an address the user gives) and `POST /api/onvif/streams` (its
 * name, model and the stream addresses of its best and smallest profiles, for the camera form).
 * Nothing is saved; the credentials given are used for the one call and never echoed or logged.
 */
import { Type } from 'typebox';
import { DomainError } from '../domain-errors.js';
import type { CamstackApp } from '../http/app.js';
import { type ApiErrorSchema, errorResponses } from '../http/errors.js';
import { OnvifClient, type OnvifEndpoint } from './client.js';
import { type DiscoveredCamera, probe } from './discovery.js';
import { OnvifError } from './transport.js';

export interface OnvifRoutesOptions {
  /** Replaced in tests: the probe (default: WS-Discovery on UDP 3702). */
  probe?: typeof probe;
  /** How long one ONVIF call may take (default 8 s). */
  timeoutMs?: number;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request; `problems` names every offending field.',
  413: 'Request body larger than 64 KiB.',
  415: 'Content-Type is not application/json.',
  500: 'Internal error.',
  502: 'The camera answered with an error, or not at all; `message` says which (never with credentials).',
};

function errors(...codes: number[]): Record<number, typeof ApiErrorSchema> {
  return errorResponses(ERROR_DESCRIPTIONS, codes);
}

const HOST = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9.:_-]+$',
  description: 'Host name or IPv4 address of the camera.',
});

const StreamSchema = Type.Union([
  Type.Object(
    {
      uri: Type.String({ description: 'The RTSP address, without credentials.' }),
      profile: Type.String(),
      codec: Type.String({ description: 'H264, H265, JPEG…' }),
      width: Type.Integer(),
      height: Type.Integer(),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

/** Pure: a discovered device as the API shows it (its first HTTP service address). */
export function discoveredView(d: DiscoveredCamera): {
  host: string;
  port: number;
  name: string | null;
  hardware: string | null;
  location: string | null;
} | null {
  for (const x of d.xaddrs) {
    try {
      const u = new URL(x);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      return {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port,
        name: d.name ?? null,
        hardware: d.hardware ?? null,
        location: d.location ?? null,
      };
    } catch {
      // not a URL: the next one
    }
  }
  return null;
}

export async function onvifRoutes(app: CamstackApp, options: OnvifRoutesOptions = {}): Promise<void> {
  const doProbe = options.probe ?? probe;
  const timeoutMs = options.timeoutMs ?? 8000;

  app.post(
    '/api/onvif/discover',
    {
      schema: {
        tags: ['onvif'],
        summary: 'Find ONVIF cameras (WS-Discovery)',
        description:
          'Probes the networks the add-on is on (multicast; inside the add-on only its own network unless ' +
          'host networking is used) and, with `address`, that one camera directly (unicast: works anywhere it ' +
          'can be reached). Takes about `seconds`.',
        body: Type.Object(
          {
            address: Type.Optional(
              Type.String({ pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$', description: 'Also ask this IPv4 address.' }),
            ),
            seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Default 3.' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              cameras: Type.Array(
                Type.Object(
                  {
                    host: Type.String(),
                    port: Type.Integer(),
                    name: Type.Union([Type.String(), Type.Null()]),
                    hardware: Type.Union([Type.String(), Type.Null()]),
                    location: Type.Union([Type.String(), Type.Null()]),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
          ...errors(400, 413, 415, 500),
        },
      },
    },
    async (request) => {
      const wait = (request.body.seconds ?? 3) * 1000;
      const probes = [doProbe({ timeoutMs: wait }).catch(() => [] as DiscoveredCamera[])];
      const address = request.body.address;
      if (address !== undefined) probes.push(doProbe({ address, timeoutMs: wait }).catch(() => []));
      const found = (await Promise.all(probes)).flat();
      const seen = new Set<string>();
      const cameras = [];
      for (const d of found) {
        const v = discoveredView(d);
        if (v === null || seen.has(`${v.host}:${v.port}`)) continue;
        seen.add(`${v.host}:${v.port}`);
        cameras.push(v);
      }
      return { cameras };
    },
  );

  app.post(
    '/api/onvif/streams',
    {
      schema: {
        tags: ['onvif'],
        summary: "An ONVIF camera's name and streams (for the camera form)",
        description:
          'Asks the camera for its profiles and returns the RTSP address of the best one (the source) and of ' +
          'the smallest (the substream), without credentials: the form keeps the user name and password apart.',
        body: Type.Object(
          {
            host: HOST,
            port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 80.' })),
            username: Type.Optional(Type.String({ maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
            password: Type.Optional(Type.String({ maxLength: 256 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              name: Type.Union([Type.String(), Type.Null()]),
              model: Type.Union([Type.String(), Type.Null()]),
              source: StreamSchema,
              substream: StreamSchema,
            },
            { additionalProperties: false },
          ),
          ...errors(400, 413, 415, 500, 502),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const endpoint: OnvifEndpoint = {
        host: b.host,
        ...(b.port !== undefined ? { port: b.port } : {}),
        ...(b.username ? { user: b.username, password: b.password ?? '' } : {}),
      };
      const client = new OnvifClient(endpoint, { timeoutMs });
      try {
        await client.connect();
        const [info, streams] = await Promise.all([client.deviceInformation().catch(() => null), client.findStreams()]);
        const view = (s: Awaited<ReturnType<OnvifClient['findStreams']>>['source']) =>
          s === undefined
            ? null
            : {
                uri: s.uri,
                profile: s.profile.name,
                codec: s.profile.encoding,
                width: s.profile.width,
                height: s.profile.height,
              };
        return {
          name: info?.manufacturer ? `${info.manufacturer} ${info.model ?? ''}`.trim() : null,
          model: info?.model ?? null,
          source: view(streams.source),
          substream: view(streams.substream),
        };
      } catch (err: unknown) {
        const why = err instanceof OnvifError || err instanceof Error ? err.message : String(err);
        const masked = b.password ? why.split(b.password).join('***') : why;
        throw new DomainError('failed', 'onvif_failed', `the camera's ONVIF service: ${masked}`);
      }
    },
  );
}
