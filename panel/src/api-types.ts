/**
 * The API's shapes as the panel sees them: the server's contract (`server/src/contract/`), a
 * module of types and constants the server's own schemas are checked against, so they cannot
 * drift. DOM-free, so tests import them under Node.
 */
export type * from '../../server/src/contract/views.js';
export type { ProcessState as EngineState } from '../../server/src/contract/views.js';
