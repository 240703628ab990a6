/**
 * Loads `@opentelemetry/api` — an optional peer dependency — on demand. troupe must import and
 * run without it, so nothing here runs at import time: the first orchestration that may trace
 * calls {@link loadOtel} (a dynamic import, like the `openai` SDK's), and a missing package
 * simply means "no tracing". The answer is kept, so later runs pay one variable read.
 */
// Type-only: erased from the emitted JavaScript, and never named by a public declaration.
import type * as OtelApi from '@opentelemetry/api';

export type Otel = typeof OtelApi;

/** undefined: not tried yet; null: not installed (or failed to load). */
let api: Otel | null | undefined;
let loading: Promise<void> | undefined;

/** The loaded API, or null when it is absent or not loaded yet. */
export function otel(): Otel | null {
  return api ?? null;
}

/**
 * Starts loading the API once. Returns a promise while it loads (await it before the first run
 * that should be traced) and `undefined` once the outcome is known, so callers only pay an
 * `await` on the first run.
 */
export function loadOtel(): Promise<void> | undefined {
  if (api !== undefined) return undefined;
  loading ??= import('@opentelemetry/api').then(
    (module) => { api = module; },
    () => { api = null; },
  );
  return loading;
}
