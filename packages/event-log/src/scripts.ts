import { loadScripts } from '@fanout/redis';

/** The event log's scripts (lua/): every connection that appends, dispatches or trims is created with them. */
export const EVENT_LOG_SCRIPTS = loadScripts(new URL('../lua/', import.meta.url));
