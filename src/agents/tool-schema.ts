import { z } from 'zod';

/**
 * Converting a tool's zod parameters into JSON schema that OpenAI strict function calling
 * accepts, and undoing the one change that conversion makes (optional → nullable) on the
 * arguments a model sends back.
 *
 * Strict mode requires every property to be listed in `required` and `additionalProperties:
 * false` on every object. An optional field therefore becomes a required field that also accepts
 * `null`, and the model sends `null` to mean "not given"; {@link nullsToUndefined} turns those
 * nulls back into absent keys before zod validates them, so `z.string().optional()` (and
 * `.default(…)`) behave as written.
 */

type JsonSchema = Record<string, unknown>;

/** Keywords strict mode rejects or that make no sense to send to a model. */
const DROPPED_KEYWORDS = ['$schema', 'default', '$id'] as const;

/**
 * `z.toJSONSchema(parameters)` made strict-mode compatible. Throws (a plain Error with a
 * JSON-pointer-like path) when the schema has a shape strict mode cannot express, such as a
 * record (an object with arbitrary keys); the caller adds the tool's name.
 */
export function toStrictJsonSchema(parameters: z.ZodObject): JsonSchema {
  // `io: 'input'` describes what the model must send (defaults and transforms are applied by zod
  // afterwards), not what execute() receives.
  const schema = z.toJSONSchema(parameters, { io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return strictify(schema, '#', true) as JsonSchema;
}

/** `z.toJSONSchema(parameters)` with only the `$schema` marker removed (for `strict: false`). */
export function toLooseJsonSchema(parameters: z.ZodObject): JsonSchema {
  const schema = z.toJSONSchema(parameters, { io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return strictify(schema, '#', false) as JsonSchema;
}

function strictify(node: unknown, path: string, strict: boolean): unknown {
  if (Array.isArray(node)) return node.map((item, i) => strictify(item, `${path}/${i}`, strict));
  if (!isPlainObject(node)) return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if ((DROPPED_KEYWORDS as readonly string[]).includes(key) && (strict || key === '$schema')) continue;
    if (key === 'properties' || key === '$defs' || key === 'definitions') {
      out[key] = mapValues(value, (child, name) => strictify(child, `${path}/${key}/${name}`, strict));
    } else if (key === 'oneOf' && strict) {
      // Strict mode supports anyOf only; zod emits oneOf for discriminated unions, whose branches
      // are mutually exclusive anyway, so anyOf accepts exactly the same values.
      out.anyOf = strictify(value, `${path}/anyOf`, strict);
    } else if (key === 'additionalProperties' || key === 'propertyNames' || key === 'patternProperties') {
      if (strict && value !== false) {
        throw new Error(
          `${path} is an object with arbitrary keys (e.g. z.record), which strict function calling cannot express; ` +
            `use z.object with named keys, or define the tool with strict: false`,
        );
      }
      out[key] = value;
    } else {
      out[key] = strictify(value, `${path}/${key}`, strict);
    }
  }
  if (strict && isObjectSchema(out)) makeStrictObject(out);
  return out;
}

function makeStrictObject(schema: JsonSchema): void {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, property] of Object.entries(properties)) {
    if (!required.has(name)) properties[name] = nullable(property);
  }
  schema.properties = properties;
  schema.required = Object.keys(properties);
  schema.additionalProperties = false;
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/** The schema, also accepting null; a simple `type` gets `'null'` added, anything else is wrapped. */
function nullable(schema: JsonSchema): JsonSchema {
  const { type } = schema;
  const types: unknown[] = Array.isArray(type) ? type : type === undefined ? [] : [type];
  // Only scalar types get `type: [t, 'null']`; objects and arrays are wrapped in anyOf, which
  // every strict-mode implementation accepts.
  const scalar = types.length > 0 && types.every((t) => SCALAR_TYPES.has(t as string));
  const simple = schema.anyOf === undefined && schema.$ref === undefined && schema.allOf === undefined;
  if (simple && scalar) {
    if (types.includes('null')) return schema;
    const out: JsonSchema = { ...schema, type: [...types, 'null'] };
    // An enum or const restricts values further, so null must be allowed there too.
    if (Array.isArray(schema.enum)) out.enum = [...schema.enum, null];
    if ('const' in schema) {
      delete out.const;
      out.enum = [schema.const, null];
    }
    return out;
  }
  if (Array.isArray(schema.anyOf) && schema.anyOf.some((s) => isPlainObject(s) && s.type === 'null')) return schema;
  // Keep the description on the outside, where models read it.
  const { description, ...rest } = schema;
  return { ...(description === undefined ? {} : { description }), anyOf: [rest, { type: 'null' }] };
}

function isObjectSchema(schema: JsonSchema): boolean {
  const { type } = schema;
  return type === 'object' || (Array.isArray(type) && type.includes('object')) || isPlainObject(schema.properties);
}

function isPlainObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapValues(value: unknown, fn: (child: unknown, name: string) => unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([name, child]) => [name, fn(child, name)]));
}

/**
 * Deletes object keys whose value is `null` where the zod schema declares the field optional
 * and does not itself accept null (a `.nullable()` field keeps its null). Walks nested objects,
 * arrays, records, unions (first branch that then validates wins) and wrappers.
 */
export function nullsToUndefined(schema: z.ZodType, value: unknown): unknown {
  const def = (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
  switch (def.type) {
    case 'object': {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        const field = def.shape?.[key];
        if (!field) {
          out[key] = child;
        } else if (child === null && isOptional(field) && !field.safeParse(null).success) {
          continue;
        } else {
          out[key] = nullsToUndefined(field, child);
        }
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.map((item) => nullsToUndefined(def.element!, item)) : value;
    case 'record':
      return isPlainObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nullsToUndefined(def.valueType!, v)]))
        : value;
    case 'tuple':
      return Array.isArray(value) ? value.map((item, i) => (def.items?.[i] ? nullsToUndefined(def.items[i], item) : item)) : value;
    case 'union': {
      for (const option of def.options ?? []) {
        const candidate = nullsToUndefined(option, value);
        if (option.safeParse(candidate).success) return candidate;
      }
      return value;
    }
    case 'intersection':
      return nullsToUndefined(def.right!, nullsToUndefined(def.left!, value));
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return nullsToUndefined(def.innerType!, value);
    case 'pipe':
      return nullsToUndefined(def.in!, value);
    case 'lazy':
      return nullsToUndefined(def.getter!(), value);
    default:
      return value;
  }
}

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
}

/** Whether the field may be left out of its object (`.optional()`, `.default()`, …). */
function isOptional(field: z.ZodType): boolean {
  return (field as unknown as { _zod: { optin?: string } })._zod.optin !== undefined;
}
