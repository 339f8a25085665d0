/** Node-RED entry of the `camstack-record` node. */
import { registerRecord } from './nodes/record';

export = registerRecord;
