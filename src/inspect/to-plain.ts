/**
 * Turns whatever an actor holds (snapshots, contexts, events, machine configs) into plain JSON
 * data the inspector can show. Live objects reference each other (actor refs, parents, systems),
 * so plain `JSON.stringify` would throw on cycles or walk the whole system; this cuts cycles and
 * deep nesting, and keeps what a reader needs from functions and errors.
 */
export function toPlain(value: unknown, maxDepth: number): unknown {
  return walk(value, maxDepth, new Set());
}

function walk(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'undefined' || typeof value === 'symbol') return undefined;
  // A machine config's inline actions and guards: the name is what the diagram shows.
  if (typeof value === 'function') return { type: value.name || 'anonymous' };
  const object = value as object;
  if (ancestors.has(object)) return '[Circular]';
  if (depth <= 0) return '[…]';
  // Snapshots and actor refs define toJSON (an actor ref becomes its id, not the whole actor).
  const json = (object as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function' && !(object instanceof Date)) {
    return walk(json.call(object), depth, ancestors);
  }
  if (object instanceof Date) return object.toISOString();
  ancestors.add(object);
  try {
    if (object instanceof Error) {
      // name, message and cause are not enumerable; own fields such as `code` are.
      const cause = 'cause' in object ? { cause: walk(object.cause, depth - 1, ancestors) } : {};
      return { name: object.name, message: object.message, ...cause, ...ownFields(object, depth, ancestors) };
    }
    if (Array.isArray(object)) return object.map((item) => walk(item, depth - 1, ancestors) ?? null);
    if (object instanceof Map) return walk(Object.fromEntries(object), depth, ancestors);
    if (object instanceof Set) return walk([...object], depth, ancestors);
    return ownFields(object, depth, ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function ownFields(object: object, depth: number, ancestors: Set<object>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(object)) {
    const converted = walk(field, depth - 1, ancestors);
    if (converted !== undefined) plain[key] = converted;
  }
  return plain;
}
