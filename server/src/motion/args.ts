/**
 * PURE: the FFmpeg arguments of a motion detector: read a camera's restream (RTSP over TCP on
 * loopback), decode it cheaply, keep `fps` frames a second, scale them to a small grey picture and
 * write them as raw bytes (width × height per frame) to stdout. The comparison happens in Node,
 * where the mask costs nothing extra (see docs/benchmarks.md, "Motion detector").
 */
import { rtspReaderArgs } from '../ffmpeg-args.js';

export interface MotionArgsOptions {
  fps: number;
  width: number;
  height: number;
  /** `-progress pipe:<fd>` for the metrics (FFmpeg's own fps, speed). */
  progressFd?: number;
}

export function motionArgs(input: string, opts: MotionArgsOptions): string[] {
  return [
    ...rtspReaderArgs({ progressFd: opts.progressFd, statsPeriodSeconds: 5 }),
    // Decoding is most of the cost: one thread (no frame-threading delay or per-thread buffers),
    // and no deblocking (its smoothing does not matter once the picture is 320 pixels wide).
    '-threads',
    '1',
    '-skip_loop_filter',
    'all',
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-an',
    '-sn',
    '-dn',
    '-i',
    input,
    '-map',
    '0:v:0',
    '-vf',
    `fps=${opts.fps},scale=${opts.width}:${opts.height}:flags=area,format=gray`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    'pipe:1',
  ];
}
