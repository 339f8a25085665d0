/** Node-RED entry of the `camstack-snapshot` node. */
import { registerSnapshot } from './nodes/snapshot';

export = registerSnapshot;
