/** Pure JPEG helpers: recognise a JPEG and read its dimensions from the frame header (SOF). */

export interface JpegSize {
  width: number;
  height: number;
}

/** Starts with the SOI marker (FF D8) followed by another marker: enough to tell a JPEG from an error page. */
export function isJpeg(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): the markers that carry the frame size. */
function isSofMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Width and height from the first SOF segment, or null if `buf` is not a well-formed JPEG up to
 * that point. Walks the marker segments (never the entropy-coded data, which comes after SOF).
 */
export function jpegSize(buf: Uint8Array): JpegSize | null {
  if (!isJpeg(buf)) return null;
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) return null;
    // Any number of 0xFF fill bytes may precede a marker.
    while (i < buf.length && buf[i] === 0xff) i++;
    const marker = buf[i];
    i++;
    if (marker === undefined) return null;
    // Standalone markers: TEM, RST0–7 (no length). SOS or EOI before SOF: no size to find.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) return null;
    const hi = buf[i];
    const lo = buf[i + 1];
    if (hi === undefined || lo === undefined) return null;
    const length = (hi << 8) | lo;
    if (length < 2) return null;
    if (isSofMarker(marker)) {
      // length(2) precision(1) height(2) width(2)
      const h1 = buf[i + 3];
      const h2 = buf[i + 4];
      const w1 = buf[i + 5];
      const w2 = buf[i + 6];
      if (h1 === undefined || h2 === undefined || w1 === undefined || w2 === undefined || length < 7) return null;
      const height = (h1 << 8) | h2;
      const width = (w1 << 8) | w2;
      return width > 0 && height > 0 ? { width, height } : null;
    }
    i += length;
  }
  return null;
}
