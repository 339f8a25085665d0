// One ONVIF camera: its services, profiles and stream URIs, and its event subscription.
import * as device from './device.js';
import * as media from './media.js';
import type { Credentials } from './security.js';
import { type EventSubscriptionOptions, OnvifEventSubscription } from './subscription.js';
import { OnvifError, OnvifTransport } from './transport.js';

/** How a camera's ONVIF side is configured (`onvif: {host, port?, user, password}`). */
export interface OnvifEndpoint {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  /** A device service address from discovery, used as is instead of host/port. */
  deviceUrl?: string;
}

/** `http://host:port/onvif/device_service`, the address ONVIF gives the device service. */
export function deviceUrlOf(endpoint: OnvifEndpoint): string {
  if (endpoint.deviceUrl) return endpoint.deviceUrl;
  const host = endpoint.host.includes(':') && !endpoint.host.startsWith('[') ? `[${endpoint.host}]` : endpoint.host;
  return `http://${host}:${endpoint.port ?? 80}/onvif/device_service`;
}

export interface StreamChoice {
  profile: media.MediaProfile;
  /** The RTSP address the camera gave (without credentials: the caller adds the camera's). */
  uri: string;
}

export class OnvifClient {
  readonly transport: OnvifTransport;
  readonly deviceUrl: string;
  #services: device.DeviceServices | undefined;

  constructor(endpoint: OnvifEndpoint, options: { timeoutMs?: number; now?: () => number } = {}) {
    const credentials: Credentials | undefined =
      endpoint.user !== undefined && endpoint.user !== ''
        ? { user: endpoint.user, password: endpoint.password ?? '' }
        : undefined;
    this.transport = new OnvifTransport({
      ...(credentials ? { credentials } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.deviceUrl = deviceUrlOf(endpoint);
  }

  /** Measures the camera's clock offset (unauthenticated) and reads its service addresses. */
  async connect(signal?: AbortSignal): Promise<{ clockOffsetMs: number; services: device.DeviceServices }> {
    const opts = signal ? { signal } : {};
    const clockOffsetMs = await this.transport.syncClock(this.deviceUrl, opts);
    return { clockOffsetMs, services: await this.services(signal) };
  }

  /** Service addresses: GetServices, or GetCapabilities for cameras without it. */
  async services(signal?: AbortSignal): Promise<device.DeviceServices> {
    if (this.#services) return this.#services;
    const opts = signal ? { signal } : {};
    let found: device.DeviceServices = {};
    try {
      found = device.parseServices((await this.transport.call(this.deviceUrl, device.getServices(), opts)).body);
    } catch (err) {
      if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
    }
    if (!found.media || !found.events) {
      const caps = device.parseCapabilities(
        (await this.transport.call(this.deviceUrl, device.getCapabilities(), opts)).body,
      );
      found = { ...caps, ...found };
    }
    this.#services = device.alignServices(found, this.deviceUrl);
    return this.#services;
  }

  async deviceInformation(): Promise<device.DeviceInformation> {
    return device.parseDeviceInformation(
      (await this.transport.call(this.deviceUrl, device.getDeviceInformation())).body,
    );
  }

  /** The video profiles: through Media2 when the camera has it (H.265 is listed right there), else Media1. */
  async profiles(): Promise<media.MediaProfile[]> {
    const services = await this.services();
    if (services.media2) {
      try {
        const found = media.parseProfiles((await this.transport.call(services.media2, media.getProfiles2())).body);
        if (found.length > 0) return found.map((p) => ({ ...p, media2: true as const }));
      } catch (err) {
        if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
      }
    }
    const url = services.media ?? this.deviceUrl;
    return media.parseProfiles((await this.transport.call(url, media.getProfiles())).body);
  }

  /** The RTSP address of a profile, asked through the service the profile was read from. */
  async streamUri(profile: string | media.MediaProfile): Promise<string> {
    const services = await this.services();
    const token = typeof profile === 'string' ? profile : profile.token;
    const viaMedia2 = typeof profile !== 'string' && profile.media2 === true && services.media2 !== undefined;
    const req = viaMedia2 ? media.getStreamUri2(token) : media.getStreamUri(token);
    const url = viaMedia2 ? (services.media2 as string) : (services.media ?? this.deviceUrl);
    const uri = media.parseStreamUri((await this.transport.call(url, req)).body);
    if (!uri) throw new OnvifError('bad_response', 'GetStreamUri', 'GetStreamUri: the camera gave no address');
    return uri;
  }

  /** "Use this camera's stream": the best main profile as source, the smallest as substream. */
  async findStreams(): Promise<{ source?: StreamChoice; substream?: StreamChoice }> {
    const picked = media.pickStreams(await this.profiles());
    const out: { source?: StreamChoice; substream?: StreamChoice } = {};
    if (picked.source) out.source = { profile: picked.source, uri: await this.streamUri(picked.source) };
    if (picked.substream) out.substream = { profile: picked.substream, uri: await this.streamUri(picked.substream) };
    return out;
  }

  /** The camera's event subscription (not started: call start(), and stop() when done). */
  eventSubscription(options: Omit<EventSubscriptionOptions, 'transport' | 'deviceUrl'>): OnvifEventSubscription {
    const eventsUrl = options.eventsUrl ?? this.#services?.events;
    return new OnvifEventSubscription({
      ...options,
      transport: this.transport,
      deviceUrl: this.deviceUrl,
      ...(eventsUrl ? { eventsUrl } : {}),
    });
  }
}
