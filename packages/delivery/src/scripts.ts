import { loadScripts } from '@fanout/redis';

/** The delivery transitions (lua/): every connection that dispatches, delivers or replays is created with them. */
export const DELIVERY_SCRIPTS = loadScripts(new URL('../lua/', import.meta.url));
