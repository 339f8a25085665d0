/** Node-RED entry of the `camstack-stream` node. */
import { registerStream } from './stream';

export = registerStream;
