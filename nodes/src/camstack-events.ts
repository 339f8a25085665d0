/** Node-RED entry of the `camstack-events` node. */
import { registerEvents } from './nodes/events';

export = registerEvents;
