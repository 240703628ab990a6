import { afterEach, describe, expect, it } from 'vitest';
import { emit, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription, sendCommand, type MessageEvent, type RuntimeCommand } from '../../src/runtime/index.js';
import { recorder, type Delivery } from './fixtures.js';

/** On `go`, sends `note` to `rec/<its key>` and reaches its final state in the same transition. */
const quitter = setup({
  types: { context: {} as { key: string }, events: {} as MessageEvent, input: {} as { agentId: { key: string } }, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'quitter',
  context: ({ input }) => ({ key: input.agentId.key }),
  initial: 'open',
  states: {
    open: { on: { go: { target: 'done', actions: emit(({ context }) => sendCommand({ type: 'note' }, { type: 'rec', key: context.key })) } } },
    done: { type: 'final' },
  },
});

type RoutedEvent = Extract<InspectionEvent, { type: '@xstate.event' }>;

describe('inspection: the source of every routed message', () => {
  let runtime: InProcessRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  function inspected() {
    const events: InspectionEvent[] = [];
    runtime = new InProcessRuntime({ inspect: (event) => events.push(event) });
    const log: Delivery[] = [];
    runtime.registerFactory('quitter', () => quitter);
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    const actor = (id: string) => events.find((ev) => ev.type === '@xstate.actor' && (ev.actorRef as AnyActorRef).id === id)!.actorRef;
    const routed = (type: string) => events.filter((ev): ev is RoutedEvent => ev.type === '@xstate.event' && ev.event.type === type);
    return { runtime, log, actor, routed };
  }

  it('shows an actor that sent and then stopped at once as the source of its message', async () => {
    const { runtime, log, actor, routed } = inspected();
    runtime.start();
    await runtime.sendMessage({ type: 'go' }, new AgentId('quitter', 's'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.type)).toEqual(['note']);
    expect(runtime.getActor(new AgentId('quitter', 's'))).toBeUndefined(); // gone before its message was delivered

    const [note] = routed('note');
    expect(note.sourceRef).toBe(actor('quitter/s'));
    expect(note.actorRef).toBe(actor('rec/s'));
  });

  it('shows the runtime root as the source of messages sent or published from outside any actor', async () => {
    const { runtime, actor, routed } = inspected();
    runtime.start();
    await runtime.sendMessage({ type: 'go' }, new AgentId('quitter', 's'));
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 's'));
    // A named sender that is not a hosted actor is outside too.
    await runtime.publishMessage({ type: 'hi' }, new TopicId('chat', 's'), { sender: new AgentId('human', 's') });
    await runtime.stopWhenIdle();

    const root = actor('troupe.runtime');
    expect(routed('go').map((ev) => [ev.sourceRef, ev.actorRef])).toEqual([[root, actor('quitter/s')]]);
    expect(routed('hello').map((ev) => [ev.sourceRef, ev.actorRef])).toEqual([[root, actor('rec/s')]]);
    expect(routed('hi').map((ev) => ev.sourceRef)).toEqual([root]);
  });
});
