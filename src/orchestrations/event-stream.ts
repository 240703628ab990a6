/**
 * A replayable, multi-consumer event stream: every `for await` starts from the first event and
 * ends after the terminal one. Leaving a loop early does not affect the producer.
 */
export class EventStream<E> implements AsyncIterable<E> {
  private readonly events: E[] = [];
  private readonly waiters = new Set<() => void>();
  private ended = false;

  push(event: E): void {
    if (this.ended) return;
    this.events.push(event);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    let index = 0;
    return {
      next: async (): Promise<IteratorResult<E>> => {
        while (index >= this.events.length && !this.ended) {
          await new Promise<void>((resolve) => this.waiters.add(resolve));
        }
        if (index < this.events.length) return { value: this.events[index++], done: false };
        return { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<E>> => {
        index = Number.POSITIVE_INFINITY;
        return { value: undefined, done: true };
      },
    };
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }
}
