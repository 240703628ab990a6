import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { bridgePage } from './bridge-page.js';

export interface RelayServerOptions {
  port: number;
  /** Where the bridge page's iframe points: the Stately inspector. */
  inspectorUrl: string;
  /** Browser origins allowed to open the WebSocket besides the bridge page itself. */
  allowedOrigins: readonly string[];
  /** What a new WebSocket client receives first: everything so far. */
  history: () => Iterable<string>;
}

/** How long close() lets open tabs answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 500;

/**
 * The HTTP + WebSocket server behind `inspect()`, on 127.0.0.1 only. It never keeps the process
 * alive: the listener and every socket are unref'd, and it never dials out, so nothing retries.
 * Inspection data can hold whole conversations, so only the bridge page's own origin and the
 * allowed ones may open the WebSocket (any web page could otherwise read it from a browser), and
 * the page is only served under a loopback Host name (no DNS rebinding).
 */
export class RelayServer {
  private readonly clients = new Set<WebSocket>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly sockets: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(options: RelayServerOptions): Promise<RelayServer> {
    const page = bridgePage(options.inspectorUrl);
    const sockets = new WebSocketServer({ noServer: true });
    const server = createServer();
    server.on('connection', (socket: Socket) => socket.unref());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    const relay = new RelayServer(server, sockets, (server.address() as AddressInfo).port);
    const hosts = new Set([`127.0.0.1:${relay.port}`, `localhost:${relay.port}`]);
    const origins = new Set([...hosts].map((host) => `http://${host}`).concat(options.allowedOrigins));

    server.on('request', (request, response) => {
      if (!hosts.has(request.headers.host ?? '')) return void response.writeHead(403).end('Forbidden host\n');
      if (request.method !== 'GET' || (request.url ?? '/').split('?')[0] !== '/') return void response.writeHead(404).end('Not found\n');
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    });
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const origin = request.headers.origin;
      // No Origin header: not a browser (a Node client, a test); browsers always send one.
      if (!hosts.has(request.headers.host ?? '') || (origin !== undefined && !origins.has(origin))) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        return;
      }
      sockets.handleUpgrade(request, socket, head, (client) => relay.accept(client, options.history()));
    });
    return relay;
  }

  /** Open WebSocket clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Sends one message (JSON text) to every open client. */
  broadcast(json: string): void {
    for (const client of this.clients) client.send(json);
  }

  /** Closes every client and the server; resolves when all is closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private accept(client: WebSocket, history: Iterable<string>): void {
    if (this.closing) return void client.terminate();
    // Replay and registration happen in one turn: nothing broadcast in between can be missed.
    for (const json of history) client.send(json);
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    client.on('error', () => client.terminate());
  }

  private async shutDown(): Promise<void> {
    const closed = [...this.clients].map((client) => new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.close(1001, 'troupe inspector closed');
    }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    for (const client of this.clients) client.terminate();
    await new Promise<void>((resolve) => this.sockets.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
