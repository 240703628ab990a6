/**
 * troupe: multi-agent LLM orchestrations as inspectable XState actor systems.
 * Everything public is re-exported here; test helpers live in `troupe/testing`.
 */
export * from './runtime/index.js';
export * from './agents/index.js';
export * from './actors/index.js';
export * from './orchestrations/index.js';
export * from './persistence/index.js';
