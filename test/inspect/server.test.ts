/** What the inspector serves, and to whom. */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { inspect, STATELY_INSPECTOR_URL, type Inspector } from '../../src/inspect/index.js';
import { collect } from './helpers.js';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body, type: response.headers['content-type'] }));
    }).on('error', reject).end();
  });
}

describe('the inspector server', () => {
  let inspector: Inspector | undefined;
  afterEach(async () => {
    await inspector?.close();
    inspector = undefined;
  });

  it('listens on 127.0.0.1 (any free port by default) and prints what to open', async () => {
    const lines: string[] = [];
    inspector = await inspect({ print: (line) => lines.push(line) });
    expect(inspector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(inspector.webSocketUrl).toBe(inspector.url.replace('http:', 'ws:').replace(/\/$/, ''));
    expect(lines).toEqual([`Stately inspector: open ${inspector.url} (the page loads ${STATELY_INSPECTOR_URL}, which needs internet)`]);
  });

  it('serves the page that embeds the Stately inspector and feeds it from the WebSocket', async () => {
    inspector = await inspect({ print: false });
    const page = await get(inspector.url);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain(JSON.stringify(STATELY_INSPECTOR_URL));
    expect(page.body).toContain('@statelyai.connected');
    expect((await get(`${inspector.url}other`)).status).toBe(404);
  });

  it('refuses other Host names (DNS rebinding) and WebSocket clients from other web origins', async () => {
    inspector = await inspect({ print: false });
    expect((await get(inspector.url, { host: 'evil.example:80' })).status).toBe(403);

    const foreign = collect(inspector.webSocketUrl, { origin: 'https://evil.example' });
    await expect(foreign.opened).rejects.toThrow(/403/);
    for (const origin of [inspector.url.replace(/\/$/, ''), 'https://stately.ai']) {
      const allowed = collect(inspector.webSocketUrl, { origin });
      await allowed.opened;
      allowed.socket.terminate();
    }
  });

  it('takes a fixed port', async () => {
    const probe = await inspect({ print: false });
    const port = Number(new URL(probe.url).port);
    await probe.close();
    inspector = await inspect({ port, print: false });
    expect(inspector.url).toBe(`http://127.0.0.1:${port}/`);
  });
});
