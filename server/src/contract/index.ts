/**
 * The contract between the server and its clients (the panel, the Node-RED package): the API's
 * views, the streamed events, the limits and the camera-id pattern. Types and constants only: no
 * imports from the rest of the server and no side effects, so a browser bundle and the Node-RED
 * package (which has no runtime dependency: its build inlines these constants) can import it.
 */
export * from './events.js';
export * from './ids.js';
export * from './limits.js';
export type * from './views.js';
