/**
 * One error shape for the whole API, and the Fastify error handler that produces it:
 *
 * ```json
 * { "statusCode": 400, "error": "Bad Request", "code": "validation_failed",
 *   "message": "invalid request body: recording.retainDays must be …",
 *   "problems": [{ "field": "recording.retainDays", "message": "must be an integer from 1 to 3650 (got -1)" }] }
 * ```
 *
 * Routes throw {@link ApiError}; schema validation errors, body-parser errors and anything
 * unexpected are mapped here, so a client never sees another shape: a path no route matches, a
 * broken URL and a request Node's parser refuses get it too (app.ts).
 */

import { STATUS_CODES } from 'node:http';
import type { ErrorObject } from 'ajv';
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import { ajvProblems } from '../config/load.js';
import { DomainError, type DomainErrorKind, summarizeProblems } from '../domain-errors.js';
import type { CamstackApp } from './app.js';

export interface ApiProblem {
  /** The offending field, dotted and camelCase as in the request: `source`, `recording.retainDays`, `id`. */
  field: string;
  message: string;
}

export interface ApiErrorBody {
  statusCode: number;
  /** The HTTP reason phrase: `Bad Request`, `Conflict`… */
  error: string;
  /** Stable machine-readable code: `validation_failed`, `not_found`, `duplicate_id`… */
  code: string;
  /** One sentence for a person. */
  message: string;
  /** Every problem found (empty when the error is not about fields). */
  problems: ApiProblem[];
}

export const ApiProblemSchema = Type.Object(
  {
    field: Type.String({ description: 'The offending field, e.g. `source` or `recording.retainDays`.' }),
    message: Type.String(),
  },
  { additionalProperties: false },
);

export const ApiErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'HTTP reason phrase.' }),
    code: Type.String({ description: 'Machine-readable error code, e.g. validation_failed, not_found, duplicate_id.' }),
    message: Type.String(),
    problems: Type.Array(ApiProblemSchema),
  },
  { additionalProperties: false, description: 'Every API error has this shape.' },
);

/** An error a route or service throws on purpose; the handler sends it as is. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly problems: readonly ApiProblem[];

  constructor(statusCode: number, code: string, message: string, problems: readonly ApiProblem[] = []) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.problems = problems;
  }

  toBody(): ApiErrorBody {
    return errorBody(this.statusCode, this.code, this.message, [...this.problems]);
  }
}

export function errorBody(
  statusCode: number,
  code: string,
  message: string,
  problems: ApiProblem[] = [],
): ApiErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message, problems };
}

/** `field message; field message` — for the one-line `message` of a validation error. */
export { summarizeProblems };

/** The HTTP status of each kind of service error: the only place the services meet HTTP. */
const STATUS_OF: Readonly<Record<DomainErrorKind, number>> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  busy: 429,
  internal: 500,
  failed: 502,
  unavailable: 503,
};

/** A service's error as the API answers it. */
export function fromDomainError(err: DomainError): ApiError {
  return new ApiError(STATUS_OF[err.kind], err.code, err.message, err.problems);
}

const PART_NAMES: Record<string, string> = {
  body: 'request body',
  params: 'path parameter',
  querystring: 'query string',
  headers: 'request headers',
};

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error;
}

/** Ajv errors (from Fastify's schema validation) → problems naming the fields. */
export function validationProblems(errors: readonly ErrorObject[], part: string): ApiProblem[] {
  return ajvProblems(errors, part, { unknownProperty: 'field' }).map((p) => ({
    field: p.pointer === '' ? part : p.pointer,
    // The loader speaks YAML; a JSON client sends objects.
    message: p.message.replace('a mapping of keys to values', 'a JSON object'),
  }));
}

/** Map any error to the API's shape. Exported for tests; {@link registerErrorHandler} uses it. */
export function toErrorBody(err: unknown): ApiErrorBody {
  if (err instanceof ApiError) return err.toBody();
  if (err instanceof DomainError) return fromDomainError(err).toBody();
  if (!isFastifyError(err)) return errorBody(500, 'internal_error', 'internal error');

  if (Array.isArray(err.validation)) {
    const part = err.validationContext ?? 'body';
    const problems = validationProblems(err.validation as unknown as ErrorObject[], part);
    const where = PART_NAMES[part] ?? part;
    return errorBody(400, 'validation_failed', `invalid ${where}: ${summarizeProblems(problems)}`, problems);
  }

  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorBody(413, 'body_too_large', 'request body is too large (the API accepts at most 64 KiB)');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errorBody(400, 'invalid_json', 'request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errorBody(400, 'invalid_json', 'request body is empty but Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorBody(415, 'unsupported_media_type', 'unsupported Content-Type; send application/json');
    default:
      break;
  }
  // Fastify's own client errors (bad Content-Length, parameter too long, …) keep their message.
  const status = err.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return errorBody(status, (err.code ?? 'bad_request').toLowerCase(), err.message);
  }
  return errorBody(500, 'internal_error', 'internal error');
}

/**
 * Errors Fastify raises before any route or hook runs (`frameworkErrors`): a URL whose
 * percent-encoding is broken, a path parameter longer than the router's limit.
 */
export function frameworkErrorBody(err: unknown): ApiErrorBody {
  const code = isFastifyError(err) ? err.code : undefined;
  if (code === 'FST_ERR_BAD_URL') return errorBody(400, 'bad_url', 'the URL is not valid (broken percent-encoding)');
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return errorBody(414, 'uri_too_long', 'a path parameter is too long');
  return toErrorBody(err);
}

/**
 * The raw HTTP response for a request Node's parser refused before Fastify saw it (headers or URL
 * over the size limit, a malformed request line, a timeout), in the one error shape with the
 * given extra headers (the security headers).
 */
export function clientErrorResponse(err: { code?: string }, headers: Readonly<Record<string, string>>): string {
  const body =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? errorBody(431, 'headers_too_large', 'the request line and headers are too large (at most 16 KiB)')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errorBody(408, 'request_timeout', 'the request took too long to arrive')
        : errorBody(400, 'bad_request', 'the request is not valid HTTP');
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${body.statusCode} ${body.error}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${text}`;
}

/**
 * Install the error handler on the root instance (child plugins inherit it). Server errors are
 * logged with their stack; client errors only at debug level (the panel polls; a broken client
 * must not flood the log).
 */
export function registerErrorHandler(app: CamstackApp): void {
  app.setErrorHandler((err, request, reply) => {
    const body = toErrorBody(err);
    if (body.statusCode >= 500) {
      request.log.error({ err, method: request.method, url: request.url }, 'request failed');
    } else {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: body.statusCode, code: body.code },
        body.message,
      );
    }
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  });
  // No route matched (and the panel's fallback passed): the same shape. Only the path is named —
  // the query may hold a token.
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    return reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send(errorBody(404, 'not_found', `no route ${request.method} ${shown}`));
  });
}

/** The error responses of a route for OpenAPI: the one error shape, described per status code. */
export function errorResponses(
  descriptions: Readonly<Record<number, string>>,
  codes: readonly number[],
): Record<number, typeof ApiErrorSchema> {
  const out: Record<number, typeof ApiErrorSchema> = {};
  for (const code of codes) {
    out[code] = Type.Object(ApiErrorSchema.properties, {
      additionalProperties: false,
      description: descriptions[code] ?? 'Error.',
    });
  }
  return out;
}
