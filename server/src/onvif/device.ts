// Device service: time, capabilities, services. Pure builders and parsers.
import { NS, type SoapRequest } from './soap.js';
import { child, children, path, text, type XmlNode } from './xml.js';

export function getSystemDateAndTime(): SoapRequest {
  return {
    operation: 'GetSystemDateAndTime',
    action: `${NS.tds}/GetSystemDateAndTime`,
    body: '<tds:GetSystemDateAndTime/>',
  };
}

export function getCapabilities(): SoapRequest {
  return {
    operation: 'GetCapabilities',
    action: `${NS.tds}/GetCapabilities`,
    body: '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
  };
}

export function getServices(): SoapRequest {
  return {
    operation: 'GetServices',
    action: `${NS.tds}/GetServices`,
    body: '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>',
  };
}

export function getDeviceInformation(): SoapRequest {
  return {
    operation: 'GetDeviceInformation',
    action: `${NS.tds}/GetDeviceInformation`,
    body: '<tds:GetDeviceInformation/>',
  };
}

function int(node: XmlNode | undefined): number | undefined {
  const s = text(node).trim();
  if (!/^\d+$/.test(s)) return undefined;
  return Number(s);
}

/**
 * The camera's UTC time in ms since the epoch, from a GetSystemDateAndTimeResponse body; undefined
 * when it gives none we can read (some give only LocalDateTime with a TZ we do not interpret).
 */
export function parseSystemDateAndTime(body: XmlNode): number | undefined {
  const utc = path(body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime');
  if (utc === undefined) return undefined;
  const d = child(utc, 'Date');
  const t = child(utc, 'Time');
  const [y, mo, da, h, mi, s] = [
    int(child(d, 'Year')),
    int(child(d, 'Month')),
    int(child(d, 'Day')),
    int(child(t, 'Hour')),
    int(child(t, 'Minute')),
    int(child(t, 'Second')),
  ];
  if (y === undefined || mo === undefined || da === undefined || h === undefined || mi === undefined) return undefined;
  if (y < 1970 || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59) return undefined;
  return Date.UTC(y, mo - 1, da, h, mi, s ?? 0);
}

/**
 * The offset to add to local time to get the camera's time. `sentAt`/`receivedAt` bracket the
 * request; the camera's answer is taken as the middle of them, and it has whole seconds, so
 * offsets under a second are noise and count as 0.
 */
export function clockOffset(cameraUtcMs: number, sentAt: number, receivedAt: number): number {
  const offset = cameraUtcMs - (sentAt + receivedAt) / 2;
  return Math.abs(offset) < 1500 ? 0 : Math.round(offset);
}

export interface DeviceServices {
  device?: string;
  media?: string;
  media2?: string;
  events?: string;
  /** True when the camera says it has PullPoint (some say false and have it; we try anyway). */
  pullPointSupport?: boolean;
}

/** From a GetServicesResponse: the service addresses by namespace. */
export function parseServices(body: XmlNode): DeviceServices {
  const out: DeviceServices = {};
  for (const svc of children(child(body, 'GetServicesResponse'), 'Service')) {
    const ns = text(child(svc, 'Namespace')).trim();
    const xaddr = text(child(svc, 'XAddr')).trim();
    if (!xaddr) continue;
    if (ns === NS.tds) out.device = xaddr;
    else if (ns === NS.trt) out.media = xaddr;
    else if (ns === 'http://www.onvif.org/ver20/media/wsdl') out.media2 = xaddr;
    else if (ns === NS.tev) out.events = xaddr;
  }
  return out;
}

/** From a GetCapabilitiesResponse: the same addresses, for cameras without GetServices. */
export function parseCapabilities(body: XmlNode): DeviceServices {
  const caps = path(body, 'GetCapabilitiesResponse', 'Capabilities');
  const out: DeviceServices = {};
  const device = text(path(caps, 'Device', 'XAddr')).trim();
  const media = text(path(caps, 'Media', 'XAddr')).trim();
  const events = text(path(caps, 'Events', 'XAddr')).trim();
  if (device) out.device = device;
  if (media) out.media = media;
  if (events) out.events = events;
  const pull = text(path(caps, 'Events', 'WSPullPointSupport')).trim();
  if (pull) out.pullPointSupport = pull === 'true' || pull === '1';
  return out;
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export function parseDeviceInformation(body: XmlNode): DeviceInformation {
  const r = child(body, 'GetDeviceInformationResponse');
  const t = (n: string) => text(child(r, n)).trim();
  return {
    manufacturer: t('Manufacturer'),
    model: t('Model'),
    firmwareVersion: t('FirmwareVersion'),
    serialNumber: t('SerialNumber'),
    hardwareId: t('HardwareId'),
  };
}

/**
 * A service or subscription address on the host we reached the device at. Cameras behind NAT or a
 * port forward, with two interfaces or a changed DHCP lease report addresses on a host we cannot
 * reach (or 0.0.0.0, or localhost); the host and port that answered us are known to work. An
 * address on the same host keeps its own port (some cameras serve media or events on another).
 */
export function alignHost(address: string, deviceUrl: string): string {
  let a: URL;
  let d: URL;
  try {
    a = new URL(address);
    d = new URL(deviceUrl);
  } catch {
    return address;
  }
  if (a.hostname === d.hostname) return address;
  a.host = d.host;
  return a.toString();
}

/** The same, for every address of a DeviceServices. */
export function alignServices(services: DeviceServices, deviceUrl: string): DeviceServices {
  const out: DeviceServices = { ...services };
  for (const key of ['device', 'media', 'media2', 'events'] as const) {
    const v = out[key];
    if (v) out[key] = alignHost(v, deviceUrl);
  }
  return out;
}
