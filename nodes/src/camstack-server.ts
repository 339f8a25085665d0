/** Node-RED entry of the `camstack-server` config node (and the editor's admin route). */
import { registerServer } from './nodes/server';

export = registerServer;
