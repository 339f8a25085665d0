/** Node-RED entry of the `camstack-events` node. */
import { registerEvents } from './events';

export = registerEvents;
