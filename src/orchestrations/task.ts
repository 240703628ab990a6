import { ChatMessageSchema, chatMessage, type ChatMessage } from '../agents/chat-message.js';
import { OrchestrationConfigError } from './errors.js';

/** What `invoke` accepts without an `inputTransform`. */
export type Task = string | ChatMessage | ChatMessage[];

/** Turns a task into the messages every participant receives first. */
export function taskMessages(task: unknown): ChatMessage[] {
  if (typeof task === 'string') {
    if (task.trim() === '') throw new OrchestrationConfigError('invoke: the task is an empty string.');
    return [chatMessage('user', task)];
  }
  const list = Array.isArray(task) ? task : [task];
  return list.map((m, i) => {
    const parsed = ChatMessageSchema.safeParse(m);
    if (!parsed.success) {
      const where = Array.isArray(task) ? ` (message ${i})` : '';
      throw new OrchestrationConfigError(`invoke: the task${where} is not a string or ChatMessage, and no inputTransform was given: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`);
    }
    return parsed.data;
  });
}
