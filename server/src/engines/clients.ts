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
}
