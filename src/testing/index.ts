/** Test helpers, published as `troupe/testing`. */
export * from './scripted-chat-client.js';
export * from './step.js';
