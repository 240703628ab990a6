/** The caller's side of an RPC: settled exactly once, its abort listener removed when it is. */

export type Reply = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface Rpc {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  settled: boolean;
  detach?: () => void;
}

export function createRpc(resolve: (value: unknown) => void, reject: (error: unknown) => void): Rpc {
  return { resolve, reject, settled: false };
}

/** Settles `rpc` with `abortError()` if `signal` aborts first. */
export function settleOnAbort(rpc: Rpc, signal: AbortSignal, abortError: () => unknown): void {
  const onAbort = () => settleRpc(rpc, { ok: false, error: abortError() });
  signal.addEventListener('abort', onAbort, { once: true });
  rpc.detach = () => signal.removeEventListener('abort', onAbort);
}

/** Settles `rpc` with `reply`, unless it has no caller or is already settled (aborted, say). */
export function settleRpc(rpc: Rpc | undefined, reply: Reply): void {
  if (!rpc || rpc.settled) return;
  rpc.settled = true;
  rpc.detach?.();
  if (reply.ok) rpc.resolve(reply.value);
  else rpc.reject(reply.error);
}
