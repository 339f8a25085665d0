// Media service (ver10): profiles and stream URIs, and the choice of "source" and "substream". Pure.
import { NS, type SoapRequest } from './soap.js';
import { attr, child, children, escapeXml, path, text, type XmlNode } from './xml.js';

export function getProfiles(): SoapRequest {
  return { operation: 'GetProfiles', action: `${NS.trt}/GetProfiles`, body: '<trt:GetProfiles/>' };
}

export function getStreamUri(profileToken: string): SoapRequest {
  return {
    operation: 'GetStreamUri',
    action: `${NS.trt}/GetStreamUri`,
    body:
      '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>' +
      '<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>' +
      `<trt:ProfileToken>${escapeXml(profileToken)}</trt:ProfileToken></trt:GetStreamUri>`,
  };
}

const TR2 = 'http://www.onvif.org/ver20/media/wsdl';

/** Media2 (ver20) lists H.265 profiles that some cameras leave out of, or misreport in, Media1. */
export function getProfiles2(): SoapRequest {
  return {
    operation: 'GetProfiles',
    action: `${TR2}/GetProfiles`,
    body: `<tr2:GetProfiles xmlns:tr2="${TR2}"><tr2:Type>VideoEncoder</tr2:Type></tr2:GetProfiles>`,
  };
}

export function getStreamUri2(profileToken: string): SoapRequest {
  return {
    operation: 'GetStreamUri',
    action: `${TR2}/GetStreamUri`,
    body:
      `<tr2:GetStreamUri xmlns:tr2="${TR2}"><tr2:Protocol>RTSP</tr2:Protocol>` +
      `<tr2:ProfileToken>${escapeXml(profileToken)}</tr2:ProfileToken></tr2:GetStreamUri>`,
  };
}

export interface MediaProfile {
  /** Read through Media2 (its stream URI is asked there too). */
  media2?: true;
  token: string;
  name: string;
  /** Video encoding as the camera names it, upper case (H264, H265, JPEG, MPEG4); '' without video. */
  encoding: string;
  width: number;
  height: number;
  fps?: number;
  bitrateKbps?: number;
}

function num(node: XmlNode | undefined): number | undefined {
  const s = text(node).trim();
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** `H.265`, `hevc`, `h264` → `H265`, `H265`, `H264`. */
function encodingName(raw: string): string {
  const e = raw.trim().toUpperCase().replace('.', '');
  return e === 'HEVC' ? 'H265' : e;
}

/** Profiles from a GetProfilesResponse, Media1 (VideoEncoderConfiguration) or Media2 (Configurations/VideoEncoder). */
export function parseProfiles(body: XmlNode): MediaProfile[] {
  const out: MediaProfile[] = [];
  for (const p of children(child(body, 'GetProfilesResponse'), 'Profiles')) {
    const token = attr(p, 'token');
    if (!token) continue;
    const enc2 = path(p, 'Configurations', 'VideoEncoder');
    const enc = enc2 ?? child(p, 'VideoEncoderConfiguration');
    const width = num(path(enc, 'Resolution', 'Width')) ?? 0;
    const height = num(path(enc, 'Resolution', 'Height')) ?? 0;
    const fps = num(path(enc, 'RateControl', 'FrameRateLimit'));
    const bitrate = num(path(enc, 'RateControl', 'BitrateLimit'));
    out.push({
      token,
      name: text(child(p, 'Name')).trim() || token,
      encoding: encodingName(text(child(enc, 'Encoding'))),
      width,
      height,
      ...(fps !== undefined ? { fps } : {}),
      ...(bitrate !== undefined ? { bitrateKbps: bitrate } : {}),
    });
  }
  return out;
}

/** The URI of a GetStreamUriResponse: Media1's MediaUri/Uri or Media2's Uri. */
export function parseStreamUri(body: XmlNode): string | undefined {
  const r = child(body, 'GetStreamUriResponse');
  const uri = (text(path(r, 'MediaUri', 'Uri')) || text(child(r, 'Uri'))).trim();
  return uri || undefined;
}

function pixels(p: MediaProfile): number {
  return p.width * p.height;
}

/** Video we can restream without transcoding comes first; JPEG/MPEG4 only when there is nothing else. */
function rank(p: MediaProfile): number {
  return p.encoding === 'H264' || p.encoding === 'H265' ? 0 : 1;
}

/**
 * "source" is the best main profile (restreamable codec first, then most pixels, then the camera's
 * order); "substream" is the smallest other profile, if the camera has one.
 */
export function pickStreams(profiles: MediaProfile[]): { source?: MediaProfile; substream?: MediaProfile } {
  const video = profiles.filter((p) => p.encoding !== '' && pixels(p) > 0);
  if (video.length === 0) return {};
  const best = [...video].sort((a, b) => rank(a) - rank(b) || pixels(b) - pixels(a))[0];
  const rest = video.filter((p) => p !== best && pixels(p) < pixels(best as MediaProfile));
  const small = [...rest].sort((a, b) => rank(a) - rank(b) || pixels(a) - pixels(b))[0];
  return { ...(best ? { source: best } : {}), ...(small ? { substream: small } : {}) };
}
