import type { InspectionEvent } from 'xstate';
import { InspectionHistory } from './history.js';
import { RelayServer } from './relay-server.js';
import { toStatelyMessage } from './stately-message.js';

/** The Stately inspector page the bridge page embeds (it needs internet). */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

/** Default cap on the history kept for late tabs: 64 Mi characters of JSON (~64 MB of text). */
export const DEFAULT_MAX_HISTORY_CHARS = 64 * 1024 * 1024;

export interface InspectOptions {
  /** Port on 127.0.0.1; default 0 (any free port — read `url`). */
  port?: number;
  /**
   * Cap on the history replayed to a tab that connects late, in characters of JSON; default
   * {@link DEFAULT_MAX_HISTORY_CHARS}. Past it the oldest events and snapshots are dropped first
   * (actor registrations last); `dropped` counts them.
   */
  maxHistoryChars?: number;
  /** The inspector page the bridge page embeds; default {@link STATELY_INSPECTOR_URL}. */
  inspectorUrl?: string;
  /**
   * Browser origins besides the bridge page that may open the WebSocket; default: the origin of
   * `inspectorUrl`. Clients that send no Origin (Node programs) are always let in.
   */
  allowedOrigins?: readonly string[];
  /** Where to print the line saying what to open; default `console.log`, `false` for silence. */
  print?: ((line: string) => void) | false;
}

/** A running inspector server; see {@link inspect}. */
export interface Inspector {
  /** The page to open in a browser: the Stately inspector, fed with this run. */
  readonly url: string;
  /** The WebSocket that speaks the Stately inspector's wire format (for other clients). */
  readonly webSocketUrl: string;
  /** Pass it as `new InProcessRuntime({ inspect })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Browser tabs (or other clients) connected now. */
  readonly clients: number;
  /** Inspection messages kept for late tabs, and how many were dropped to stay under the cap. */
  readonly history: { readonly length: number; readonly dropped: number };
  /** Stops recording, closes every connection and the server. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts an inspector server on 127.0.0.1 for watching a run in the Stately inspector. Open
 * `url` in a browser: the Stately inspector shows every actor the runtime hosts and every
 * message routed between them. A tab opened late — even after the run ended — receives the whole
 * history first. The server never keeps the process alive; `close()` it when done.
 *
 * @example
 * ```ts
 * import { InProcessRuntime } from 'troupe';
 * import { inspect } from 'troupe/inspect';
 *
 * const inspector = await inspect(); // prints "Stately inspector: open http://127.0.0.1:…/"
 * const runtime = new InProcessRuntime({ inspect: inspector.inspect });
 * // … run orchestrations on `runtime` …
 * await inspector.close();
 * ```
 */
export async function inspect(options: InspectOptions = {}): Promise<Inspector> {
  const inspectorUrl = options.inspectorUrl ?? STATELY_INSPECTOR_URL;
  const history = new InspectionHistory(options.maxHistoryChars ?? DEFAULT_MAX_HISTORY_CHARS);
  const server = await RelayServer.start({
    port: options.port ?? 0,
    inspectorUrl,
    allowedOrigins: options.allowedOrigins ?? [new URL(inspectorUrl).origin],
    history: () => history.replay(),
  });

  // XState announces an actor before its first snapshot exists, so events are converted a
  // microtask later, in arrival order, which also keeps serialisation out of the transition.
  let pending: InspectionEvent[] = [];
  let closed = false;
  const flush = () => {
    const events = pending;
    pending = [];
    for (const event of events) {
      const message = toStatelyMessage(event);
      if (!message) continue;
      const json = JSON.stringify(message);
      history.add(json, message.type === '@xstate.actor');
      server.broadcast(json);
    }
  };
  const record = (event: InspectionEvent) => {
    if (closed) return;
    if (pending.push(event) === 1) queueMicrotask(flush);
  };

  const url = `http://127.0.0.1:${server.port}/`;
  const print = options.print === undefined ? console.log : options.print;
  if (print) print(`Stately inspector: open ${url} (the page loads ${inspectorUrl}, which needs internet)`);

  const close = async () => {
    if (!closed) {
      closed = true;
      flush();
    }
    await server.close();
  };
  return {
    url,
    webSocketUrl: `ws://127.0.0.1:${server.port}`,
    inspect: record,
    get clients() {
      return server.clientCount;
    },
    history,
    close,
    [Symbol.asyncDispose]: close,
  };
}
