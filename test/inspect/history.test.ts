import { describe, expect, it } from 'vitest';
import { InspectionHistory } from '../../src/inspect/history.js';

describe('InspectionHistory', () => {
  it('replays everything in order while under the cap', () => {
    const history = new InspectionHistory(1_000);
    history.add('actor-a', true);
    history.add('event-1', false);
    history.add('actor-b', true);
    history.add('event-2', false);
    expect([...history.replay()]).toEqual(['actor-a', 'event-1', 'actor-b', 'event-2']);
    expect(history.dropped).toBe(0);
  });

  it('past the cap drops the oldest events first and keeps actor registrations', () => {
    const history = new InspectionHistory(28); // four 7-character messages
    history.add('actor-a', true);
    history.add('event-1', false);
    history.add('event-2', false);
    history.add('actor-b', true);
    history.add('event-3', false);
    history.add('event-4', false);
    expect([...history.replay()]).toEqual(['actor-a', 'actor-b', 'event-3', 'event-4']);
    expect(history).toMatchObject({ length: 4, dropped: 2 });
  });

  it('drops the oldest registrations only when no event is left', () => {
    const history = new InspectionHistory(14);
    history.add('actor-a', true);
    history.add('actor-b', true);
    history.add('actor-c', true);
    expect([...history.replay()]).toEqual(['actor-b', 'actor-c']);
  });

  it('stays bounded over a long run', () => {
    const history = new InspectionHistory(100 * 10);
    history.add('registered', true);
    for (let i = 0; i < 50_000; i++) history.add(String(i).padStart(10, '0'), false);
    const kept = [...history.replay()];
    expect(kept.length).toBe(100);
    expect(kept[0]).toBe('registered');
    expect(kept.at(-1)).toBe('0000049999');
    expect(history.dropped).toBe(50_000 - 99);
  });
});
