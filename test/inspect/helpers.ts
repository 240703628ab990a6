import { WebSocket } from 'ws';

/** A WebSocket client that keeps every JSON message it receives. */
export interface Collector {
  socket: WebSocket;
  messages: Array<Record<string, any>>;
  opened: Promise<void>;
  closed: Promise<void>;
  /** Resolves once `count` messages arrived (rejects after `timeoutMs`). */
  until(count: number, timeoutMs?: number): Promise<void>;
}

export function collect(url: string, headers: Record<string, string> = {}): Collector {
  const socket = new WebSocket(url, { headers });
  const messages: Array<Record<string, any>> = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const check of waiters) check();
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  opened.catch(() => {});
  return {
    socket,
    messages,
    opened,
    closed,
    until: (count, timeoutMs = 5_000) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`expected ${count} inspection messages, got ${messages.length}`));
      }, timeoutMs);
      const check = () => {
        if (messages.length < count) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    }),
  };
}
