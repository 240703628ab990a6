import type { InspectionEvent } from 'xstate';
import { toPlain } from './to-plain.js';

/**
 * The Stately inspector's wire format: what `@statelyai/inspect`'s WebSocket and browser
 * receivers accept, one JSON object per message. The page checks that `_version` is a string;
 * we put the `@statelyai/inspect` release whose format this follows.
 */
export const STATELY_PROTOCOL_VERSION = '0.7.2';

/** How deep snapshots, contexts and events are copied; deeper values show as "[…]". */
export const MAX_DEPTH = 12;

interface Common {
  sessionId: string;
  rootId: string;
  createdAt: string;
  id: null;
  _version: string;
}

/** One message as the Stately inspector reads it. */
export type StatelyMessage =
  | (Common & { type: '@xstate.actor'; name: string; parentId?: string; definition: string; snapshot: unknown })
  | (Common & { type: '@xstate.event'; sourceId?: string; event: unknown })
  | (Common & { type: '@xstate.snapshot'; event: unknown; snapshot: unknown });

/** What we read of an inspected actor: XState's `Actor` has all of it, its public type not all. */
interface InspectedActor {
  id: string;
  sessionId: string;
  logic?: { config?: unknown };
  _parent?: { sessionId: string };
  getSnapshot(): unknown;
}

// A machine's definition is the same for every actor of it: stringify it once per logic.
const definitions = new WeakMap<object, string>();

function definitionOf(actorRef: InspectedActor, name: string): string {
  const logic = actorRef.logic;
  const config = logic?.config;
  if (!logic || typeof config !== 'object' || config === null) return JSON.stringify({ id: name });
  let definition = definitions.get(logic);
  if (definition === undefined) {
    definition = JSON.stringify(toPlain(config, MAX_DEPTH));
    definitions.set(logic, definition);
  }
  return definition;
}

function nameOf(actorRef: InspectedActor): string {
  const configId = (actorRef.logic?.config as { id?: unknown } | undefined)?.id;
  // Hosted actors are named by their AgentId; an unnamed actor falls back to its machine's id.
  return actorRef.id === actorRef.sessionId && typeof configId === 'string' ? configId : actorRef.id;
}

/**
 * Converts an XState inspection event into the Stately format, or `undefined` for the kinds the
 * inspector does not draw (microsteps, actions). Call it after the actor's constructor returned:
 * XState announces an actor before its first snapshot exists.
 */
export function toStatelyMessage(event: InspectionEvent, now = Date.now()): StatelyMessage | undefined {
  const common = { sessionId: event.actorRef.sessionId, rootId: event.rootId, createdAt: String(now), id: null, _version: STATELY_PROTOCOL_VERSION };
  switch (event.type) {
    case '@xstate.actor': {
      const actor = event.actorRef as unknown as InspectedActor;
      const name = nameOf(actor);
      const parentId = actor._parent?.sessionId;
      return {
        type: '@xstate.actor',
        ...common,
        name,
        ...(parentId ? { parentId } : {}),
        definition: definitionOf(actor, name),
        snapshot: toPlain(actor.getSnapshot(), MAX_DEPTH) ?? { status: 'active' },
      };
    }
    case '@xstate.event':
      return {
        type: '@xstate.event',
        ...common,
        ...(event.sourceRef ? { sourceId: event.sourceRef.sessionId } : {}),
        event: toPlain(event.event, MAX_DEPTH),
      };
    case '@xstate.snapshot':
      return {
        type: '@xstate.snapshot',
        ...common,
        event: toPlain(event.event, MAX_DEPTH),
        snapshot: toPlain(event.snapshot, MAX_DEPTH),
      };
    default:
      return undefined;
  }
}
