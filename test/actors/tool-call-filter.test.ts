import { describe, expect, it } from 'vitest';
import { contextWindow, filterToolCalls, filterTranscript } from '../../src/actors/tool-call-filter.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';

const call = (id: string, name: string) => ({ id, name, arguments: '{}' });
const isControl = (name: string) => name.startsWith('transfer_to_');

describe('tool-call filters', () => {
  // Two agents whose providers both numbered their first call "call_0_0".
  const transcript: ChatMessage[] = [
    { id: 'u', role: 'user', content: 'hi' },
    { id: 'a1', role: 'assistant', name: 'Triage', content: '', toolCalls: [call('call_0_0', 'transfer_to_Orders')] },
    { id: 't1', role: 'tool', content: 'Transferred', toolCallId: 'call_0_0' },
    { id: 'a2', role: 'assistant', name: 'Orders', content: '', toolCalls: [call('call_0_0', 'lookup')] },
    { id: 't2', role: 'tool', content: 'shipped', toolCallId: 'call_0_0' },
    { id: 'a3', role: 'assistant', name: 'Orders', content: 'It shipped.' },
  ];

  it('filterTranscript hides control calls by name, per message, even when ids repeat', () => {
    expect(filterTranscript(transcript, 'handoffOnly', isControl).map((m) => m.id)).toEqual(['u', 'a2', 't2', 'a3']);
    expect(filterTranscript(transcript, 'all', isControl).map((m) => m.id)).toEqual(['u', 'a3']);
    expect(filterTranscript(transcript, 'none', isControl)).toBe(transcript);
  });

  it('filterToolCalls keeps the words of a message whose calls it hides', () => {
    const mixed: ChatMessage[] = [
      { id: 'a', role: 'assistant', content: 'Passing you on.', toolCalls: [call('h', 'transfer_to_X'), call('k', 'lookup')] },
      { id: 'th', role: 'tool', content: 'ok', toolCallId: 'h' },
      { id: 'tk', role: 'tool', content: 'found', toolCallId: 'k' },
    ];
    const kept = filterToolCalls(mixed, 'handoffOnly', ['h']);
    expect(kept.map((m) => [m.id, m.toolCalls?.map((c) => c.id) ?? []])).toEqual([['a', ['k']], ['tk', []]]);
    expect(filterToolCalls(mixed, 'all').map((m) => [m.id, m.content, m.toolCalls])).toEqual([['a', 'Passing you on.', undefined]]);
  });

  it('contextWindow never starts with an orphaned tool result', () => {
    expect(contextWindow(transcript, 2).map((m) => m.id)).toEqual(['a3']);
    expect(contextWindow(transcript, 3).map((m) => m.id)).toEqual(['a2', 't2', 'a3']);
    expect(contextWindow(transcript, null)).toBe(transcript);
  });
});
