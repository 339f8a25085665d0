/** Node-RED entry of the `camstack-stream` node. */
import { registerStream } from './nodes/stream';

export = registerStream;
