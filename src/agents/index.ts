export * from './chat-message.js';
export * from './chat-client.js';
export * from './chat-response.js';
export * from './errors.js';
export * from './tool.js';
export * from './chat-completion-agent.js';
export * from './openai-chat-client.js';
export * from './structured-call.js';
