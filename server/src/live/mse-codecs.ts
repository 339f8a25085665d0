/**
 * Pure: when one go2rtc MSE consumer can serve another viewer. A viewer offers codecs
 * (`{"type":"mse","value":"avc1.640029,opus,…"}`); go2rtc recognises a few exact names and
 * answers with the MIME of the tracks it will send. A shared upstream opened with offer U and
 * answer A serves a viewer offering V when every family of V is in U (so go2rtc could have picked
 * nothing for V that U left out) and every family of A is in V (the viewer decodes all it gets).
 */

export type CodecFamily = 'h264' | 'h265' | 'aac' | 'pcm' | 'opus';

/** The offer tokens go2rtc understands (anything else in an offer is ignored by it). */
const OFFER_TOKENS: Readonly<Record<string, CodecFamily>> = {
  'avc1.640029': 'h264',
  'hvc1.1.6.L153.B0': 'h265',
  'mp4a.40.2': 'aac',
  flac: 'pcm',
  opus: 'opus',
};

/**
 * What our shared upstream of a camera offers before any viewer asks: every family go2rtc can
 * send over MSE, so the answer is the camera's own tracks, transcoded nowhere.
 */
export const FULL_OFFER = Object.keys(OFFER_TOKENS).join(',');

/** The families an offer asks for, as go2rtc reads it. */
export function offerFamilies(offer: string): Set<CodecFamily> {
  const out = new Set<CodecFamily>();
  for (const token of offer.split(',')) {
    const family = OFFER_TOKENS[token.trim()];
    if (family) out.add(family);
  }
  return out;
}

/** A stable key of an offer: its families, sorted. */
export function offerKey(offer: string): string {
  return [...offerFamilies(offer)].sort().join(',');
}

/** The families in go2rtc's answer, `video/mp4; codecs="avc1.64001F,mp4a.40.2"`; null if unreadable. */
export function answerFamilies(mime: string): Set<CodecFamily> | null {
  const m = /codecs="([^"]*)"/.exec(mime);
  if (!m) return null;
  const out = new Set<CodecFamily>();
  for (const raw of (m[1] ?? '').split(',')) {
    const c = raw.trim().toLowerCase();
    if (c === '') continue;
    if (c.startsWith('avc1.') || c.startsWith('avc3.')) out.add('h264');
    else if (c.startsWith('hvc1.') || c.startsWith('hev1.')) out.add('h265');
    else if (c.startsWith('mp4a.')) out.add('aac');
    else if (c === 'flac') out.add('pcm');
    else if (c === 'opus') out.add('opus');
    else return null; // a codec we do not know: do not guess
  }
  return out;
}

/** Whether a viewer offering `viewerOffer` may join an upstream opened with `upstreamOffer` that go2rtc answered with `mime`. */
export function canShare(upstreamOffer: string, mime: string, viewerOffer: string): boolean {
  const u = offerFamilies(upstreamOffer);
  const v = offerFamilies(viewerOffer);
  const a = answerFamilies(mime);
  if (!a || v.size === 0) return false;
  for (const f of v) if (!u.has(f)) return false;
  for (const f of a) if (!v.has(f)) return false;
  return true;
}
