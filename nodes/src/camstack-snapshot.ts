/** Node-RED entry of the `camstack-snapshot` node. */
import { registerSnapshot } from './snapshot';

export = registerSnapshot;
