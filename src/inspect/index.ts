/**
 * Watching a run in the Stately inspector, published as `troupe/inspect` (a subpath of its own,
 * so that the main entry never loads the WebSocket server).
 */
export { inspect, DEFAULT_MAX_HISTORY_CHARS, STATELY_INSPECTOR_URL, type InspectOptions, type Inspector } from './inspect.js';
export { STATELY_PROTOCOL_VERSION, type StatelyMessage } from './stately-message.js';
