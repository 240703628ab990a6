/** What every layer shares; imports nothing from the other layers. */
export * from './errors.js';
export * from './abort.js';
export * from './names.js';
