/** Types of what the tests take from scripts/onvif-mock.mjs (plain Node: it runs before node_modules exist). */
export interface OnvifMockPaths {
  src: string;
  key: string;
  /** The binary built from the current sources (it may not exist yet). */
  bin: string;
  cargoHome: string;
  targetDir: string;
}
export function onvifMockPaths(root: string, cacheDir?: string): OnvifMockPaths;
export function buildOnvifMock(options: {
  root: string;
  cacheDir?: string;
  log: (msg: string) => void;
  fail: (msg: string) => never;
}): { status: 'cached' | 'built' | 'no-cargo'; bin: string };
