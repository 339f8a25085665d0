/** Node-RED entry of the `camstack-record` node. */
import { registerRecord } from './record';

export = registerRecord;
