/** Thin HTTP clients for the engines' loopback APIs. No retries here: callers decide. */

export class EngineHttpError extends Error {
  constructor(
    readonly engine: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${engine} answered ${status}: ${body.slice(0, 300)}`);
  }
}

async function request(
  engine: string,
  base: string,
  path: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<Response> {
  const { timeoutMs = 3000, ...rest } = init;
  const signal = rest.signal ?? AbortSignal.timeout(timeoutMs);
  const res = await fetch(`${base}${path}`, { ...rest, signal });
  if (!res.ok) throw new EngineHttpError(engine, res.status, await res.text().catch(() => ''));
  return res;
}

/** One connection as go2rtc lists it under a stream's producers or consumers. */
export interface Go2rtcConnection {
  id?: number;
  url?: string;
  format_name?: string;
  protocol?: string;
  remote_addr?: string;
  user_agent?: string;
  bytes_recv?: number;
  bytes_send?: number;
  medias?: string[];
}

export interface Go2rtcStreamInfo {
  producers: Go2rtcConnection[] | null;
  consumers: Go2rtcConnection[] | null;
}

export interface Go2rtcInfo {
  version: string;
  config_path?: string;
}

export class Go2rtcClient {
  readonly base: string;
  constructor(port: number) {
    this.base = `http://127.0.0.1:${port}`;
  }

  async info(signal?: AbortSignal): Promise<Go2rtcInfo> {
    const res = await request('go2rtc', this.base, '/api', signal ? { signal } : {});
    return (await res.json()) as Go2rtcInfo;
  }

  /** Every stream with its producers and consumers (does not start any source). */
  async streams(): Promise<Record<string, Go2rtcStreamInfo>> {
    const res = await request('go2rtc', this.base, '/api/streams');
    return ((await res.json()) ?? {}) as Record<string, Go2rtcStreamInfo>;
  }

  /**
   * One JPEG of a stream (`GET /api/frame.jpeg`): go2rtc waits for the next keyframe, so this
   * takes up to a GOP. Sent as `camstack/snapshot`, so the runtime does not count it as a viewer.
   * go2rtc answers 200 with an empty body when the stream cannot start: callers check the bytes.
   */
  async frame(src: string, width?: number, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const q = new URLSearchParams({ src });
    if (width !== undefined) q.set('width', String(width));
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
    const res = await request('go2rtc', this.base, `/api/frame.jpeg?${q}`, {
      headers: { 'user-agent': 'camstack/snapshot' },
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
    return Buffer.from(await res.arrayBuffer());
  }

  /**
   * Creates or re-points a stream in memory only (PATCH never writes go2rtc's file, so camera
   * credentials in ingest sources are never written to disk; we re-push after a restart).
   */
  async setStream(name: string, src: string): Promise<void> {
    const q = new URLSearchParams({ name, src });
    await request('go2rtc', this.base, `/api/streams?${q}`, { method: 'PATCH' });
  }

  /**
   * WebRTC signalling for a stream: an SDP offer in, go2rtc's SDP answer out (with every ICE
   * candidate gathered; no trickle). `json` uses go2rtc's JSON form, `sdp` its WHEP form.
   */
  async webrtc(src: string, offer: string, form: 'json' | 'sdp'): Promise<string> {
    const res = await request('go2rtc', this.base, `/api/webrtc?${new URLSearchParams({ src })}`, {
      method: 'POST',
      headers: { 'content-type': form === 'json' ? 'application/json' : 'application/sdp' },
      body: form === 'json' ? JSON.stringify({ type: 'offer', sdp: offer }) : offer,
      timeoutMs: 15_000,
    });
    if (form === 'sdp') return res.text();
    const answer = (await res.json()) as { type?: string; sdp?: string };
    if (typeof answer.sdp !== 'string') throw new EngineHttpError('go2rtc', 502, 'answer without SDP');
    return answer.sdp;
  }

  /**
   * go2rtc removes the stream from memory first, then from its YAML file; a stream added through
   * the API (PATCH) is not in that file, so go2rtc answers 400 "path not exist" although the
   * stream is gone. That answer counts as done.
   */
  async deleteStream(name: string): Promise<void> {
    try {
      await request('go2rtc', this.base, `/api/streams?${new URLSearchParams({ src: name })}`, { method: 'DELETE' });
    } catch (err) {
      if (err instanceof EngineHttpError && err.status === 400 && /path not exist/i.test(err.body)) return;
      throw err;
    }
  }
}

export interface MediamtxTrack {
  codec: string;
  codecProps?: { width?: number; height?: number; profile?: string; level?: string; [k: string]: unknown };
}

/** Runtime state of a MediaMTX path (GET /v3/paths/list items). */
export interface MediamtxPath {
  name: string;
  confName?: string;
  source: { type: string; id: string } | null;
  ready?: boolean;
  readyTime?: string | null;
  available?: boolean;
  availableTime?: string | null;
  online?: boolean;
  onlineTime?: string | null;
  tracks2?: MediamtxTrack[];
  readers: { type: string; id: string }[];
  inboundBytes?: number;
  bytesReceived?: number;
  outboundBytes?: number;
}

interface MediamtxList<T> {
  itemCount: number;
  pageCount: number;
  items: T[];
}

export interface MediamtxInfo {
  version: string;
  started?: string;
}

export class MediamtxClient {
  readonly base: string;
  constructor(port: number) {
    this.base = `http://127.0.0.1:${port}`;
  }

  async info(signal?: AbortSignal): Promise<MediamtxInfo> {
    const res = await request('mediamtx', this.base, '/v3/info', signal ? { signal } : {});
    return (await res.json()) as MediamtxInfo;
  }

  async #listAll<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    for (let page = 0; ; page++) {
      const res = await request('mediamtx', this.base, `${path}?page=${page}&itemsPerPage=500`);
      const body = (await res.json()) as MediamtxList<T>;
      items.push(...(body.items ?? []));
      if (page + 1 >= body.pageCount) return items;
    }
  }

  /** Path configurations (what we pushed), keyed by name. */
  async pathConfigs(): Promise<Map<string, Record<string, unknown>>> {
    const items = await this.#listAll<Record<string, unknown> & { name: string }>('/v3/config/paths/list');
    return new Map(items.map((i) => [i.name, i]));
  }

  async addPath(name: string, conf: object): Promise<void> {
    await request('mediamtx', this.base, `/v3/config/paths/add/${encodeURIComponent(name)}`, json(conf));
  }

  async replacePath(name: string, conf: object): Promise<void> {
    await request('mediamtx', this.base, `/v3/config/paths/replace/${encodeURIComponent(name)}`, json(conf));
  }

  async deletePath(name: string): Promise<void> {
    await request('mediamtx', this.base, `/v3/config/paths/delete/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  /** Runtime state of every active path. */
  async paths(): Promise<MediamtxPath[]> {
    return this.#listAll<MediamtxPath>('/v3/paths/list');
  }
}

function json(body: object): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
