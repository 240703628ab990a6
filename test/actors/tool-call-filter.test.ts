import { describe, expect, it } from 'vitest';
import { contextWindow, filterToolCalls, filterTranscript } from '../../src/actors/tool-call-filter.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';

const call = (id: string, name: string, control?: 'handoff' | 'complete') => ({ id, name, arguments: '{}', ...(control ? { control } : {}) });

describe('tool-call filters', () => {
  // Two agents whose providers both numbered their first call "call_0_0".
  const transcript: ChatMessage[] = [
    { id: 'u', role: 'user', content: 'hi' },
    { id: 'a1', role: 'assistant', name: 'Triage', content: '', toolCalls: [call('call_0_0', 'transfer_to_Orders', 'handoff')] },
    { id: 't1', role: 'tool', content: 'Transferred', toolCallId: 'call_0_0' },
    { id: 'a2', role: 'assistant', name: 'Orders', content: '', toolCalls: [call('call_0_0', 'lookup')] },
    { id: 't2', role: 'tool', content: 'shipped', toolCallId: 'call_0_0' },
    { id: 'a3', role: 'assistant', name: 'Orders', content: 'It shipped.' },
  ];

  it("filterTranscript hides other agents' control calls by their mark, per turn, even when ids repeat", () => {
    // Seen by a third agent: Triage's control is hidden, Orders' ordinary call (same id) is kept.
    expect(filterTranscript(transcript, 'Refund', 'handoffOnly').map((m) => m.id)).toEqual(['u', 'a2', 't2', 'a3']);
    expect(filterTranscript(transcript, 'Refund', 'all').map((m) => m.id)).toEqual(['u', 'a3']);
    expect(filterTranscript(transcript, 'Refund', 'none')).toBe(transcript);
  });

  it("filterTranscript keeps the recipient's own turns whole, whatever the mode", () => {
    expect(filterTranscript(transcript, 'Orders', 'all').map((m) => m.id)).toEqual(['u', 'a2', 't2', 'a3']);
    expect(filterTranscript(transcript, 'Triage', 'all').map((m) => m.id)).toEqual(['u', 'a1', 't1', 'a3']);
    expect(filterTranscript(transcript, 'Triage', 'handoffOnly').map((m) => m.id)).toEqual(['u', 'a1', 't1', 'a2', 't2', 'a3']);
  });

  it('filterTranscript never guesses controls from a name: an unmarked transfer_to_* call is an ordinary tool', () => {
    const ordinary: ChatMessage[] = [
      { id: 'a', role: 'assistant', name: 'Triage', content: '', toolCalls: [call('x', 'transfer_to_human_agents')] },
      { id: 't', role: 'tool', content: 'queued', toolCallId: 'x' },
      { id: 'b', role: 'assistant', name: 'Triage', content: 'Done.', toolCalls: [call('k', 'complete_task', 'complete')] },
      { id: 'tk', role: 'tool', content: 'Task completed.', toolCallId: 'k' },
    ];
    expect(filterTranscript(ordinary, 'Refund', 'handoffOnly').map((m) => [m.id, m.toolCalls?.map((c) => c.id) ?? []])).toEqual([
      ['a', ['x']], ['t', []], ['b', []],
    ]);
  });

  it('filterTranscript calls a custom filter once per other agent\'s turn, with the real author and the marked controls', () => {
    const seen: Array<{ ids: string[]; from: string; to: string; mode: string; controls: string[] }> = [];
    const out = filterTranscript(transcript, 'Orders', 'handoffOnly', (messages, info) => {
      seen.push({ ids: messages.map((m) => m.id), from: info.from, to: info.to, mode: info.mode, controls: info.controlToolCallIds });
      return messages.filter((m) => m.role !== 'tool');
    });
    expect(seen).toEqual([{ ids: ['a1', 't1'], from: 'Triage', to: 'Orders', mode: 'handoffOnly', controls: ['call_0_0'] }]);
    expect(out.map((m) => m.id)).toEqual(['u', 'a1', 'a2', 't2', 'a3']);
    // 'none' does not bypass a custom filter.
    const calls: string[] = [];
    filterTranscript(transcript, 'Refund', 'none', (messages, info) => { calls.push(info.from); return messages; });
    expect(calls).toEqual(['Triage', 'Orders', 'Orders']);
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
