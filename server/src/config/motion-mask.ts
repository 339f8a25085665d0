/**
 * PURE: motion mask zones (polygons in normalised picture coordinates) and their rasterisation
 * into the 0/1 pixel mask the frame comparison uses.
 */

/** A polygon in normalised picture coordinates: x and y in 0..1, (0,0) top left, (1,1) bottom right. */
export type MotionPoint = readonly [x: number, y: number];

export interface MotionZone {
  /**
   * `exclude`: changes inside never count (a tree, a road, a timestamp overlay). `include`: when a
   * camera has include zones, only changes inside them count. Excludes win over includes.
   */
  mode: 'include' | 'exclude';
  /** At least 3 points; the polygon is closed implicitly (last point → first). */
  points: readonly MotionPoint[];
  /** Optional label for the panel's mask editor. */
  name?: string;
}

/** Shoelace area of a polygon in normalised units (1 = the whole picture). */
export function polygonArea(points: readonly MotionPoint[]): number {
  let twice = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i] as MotionPoint;
    const [x2, y2] = points[(i + 1) % points.length] as MotionPoint;
    twice += x1 * y2 - x2 * y1;
  }
  return Math.abs(twice) / 2;
}

/**
 * PURE: the watched pixels of a width×height picture as a 0/1 byte per pixel. A pixel is tested
 * at its centre; polygons use the even-odd rule. No zones: everything watched. Include zones: only
 * pixels inside one of them. Exclude zones: never watched.
 */
export function rasterizeMask(zones: readonly MotionZone[], width: number, height: number): Uint8Array {
  const includes = zones.filter((z) => z.mode === 'include');
  const excludes = zones.filter((z) => z.mode === 'exclude');
  const mask = new Uint8Array(width * height);
  if (includes.length === 0) mask.fill(1);
  else for (const zone of includes) fillPolygon(mask, zone.points, width, height, 1);
  for (const zone of excludes) fillPolygon(mask, zone.points, width, height, 0);
  return mask;
}

/** Scanline fill at pixel centres: for each row, the crossings of the polygon's edges, paired. */
function fillPolygon(
  mask: Uint8Array,
  points: readonly MotionPoint[],
  width: number,
  height: number,
  value: 0 | 1,
): void {
  const xs: number[] = [];
  for (let row = 0; row < height; row++) {
    const y = (row + 0.5) / height;
    xs.length = 0;
    for (let i = 0; i < points.length; i++) {
      const [x1, y1] = points[i] as MotionPoint;
      const [x2, y2] = points[(i + 1) % points.length] as MotionPoint;
      // Half-open rule: an edge covers y1 <= y < y2 (either direction), so a vertex is counted once.
      if (y1 <= y === y2 <= y) continue;
      xs.push(x1 + ((y - y1) / (y2 - y1)) * (x2 - x1));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixels whose centre (col + 0.5) / width lies in [xs[k], xs[k+1]).
      const from = Math.max(0, Math.ceil((xs[k] as number) * width - 0.5));
      const to = Math.min(width, Math.ceil((xs[k + 1] as number) * width - 0.5));
      if (to > from) mask.fill(value, row * width + from, row * width + to);
    }
  }
}
