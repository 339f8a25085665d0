/**
 * Pure: the parts of FFmpeg command lines several jobs share. No I/O.
 */

/**
 * The start of an FFmpeg that reads an RTSP stream over TCP (the restream, or a camera):
 * quiet, no stdin, machine-readable progress on `progressFd` every `statsPeriodSeconds` when
 * asked, and a 10 s socket timeout so a dead stream ends the process instead of hanging it.
 */
export function rtspReaderArgs(opts: { progressFd?: number | undefined; statsPeriodSeconds: number }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    ...(opts.progressFd === undefined
      ? []
      : ['-nostats', '-progress', `pipe:${opts.progressFd}`, '-stats_period', String(opts.statsPeriodSeconds)]),
    '-rtsp_transport',
    'tcp',
    '-timeout',
    '10000000',
  ];
}

/** The end of an FFmpeg that writes one video frame as a JPEG to stdout, scaled to `width` if given. */
export function jpegFrameOutputArgs(width?: number): string[] {
  return [
    '-map',
    '0:v:0',
    '-frames:v',
    '1',
    ...(width === undefined ? [] : ['-vf', `scale=${width}:-2`]),
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    'pipe:1',
  ];
}
