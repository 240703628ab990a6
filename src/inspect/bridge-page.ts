/**
 * The page `inspect()` serves at its URL. The Stately inspector (https://stately.ai/inspect)
 * runs in an iframe and listens for inspection messages posted by the window around it — the
 * same way `@statelyai/inspect`'s browser inspector feeds it. This page reads the run from the
 * inspector's WebSocket (same origin, so no mixed-content or private-network prompts) and posts
 * every message into the iframe once the Stately page says it is ready; a reload of the iframe
 * gets everything again.
 */
export function bridgePage(inspectorUrl: string): string {
  // JSON is valid JavaScript; escaping "<" keeps a URL from closing the <script> element.
  const url = JSON.stringify(inspectorUrl).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>troupe · Stately inspector</title>
<style>
  html, body { height: 100%; margin: 0; font: 13px system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  #status { padding: 4px 8px; background: #1e1e24; color: #ddd; }
  iframe { flex: 1; width: 100%; border: 0; }
</style>
</head>
<body>
<div id="status">troupe: connecting…</div>
<iframe id="inspector" title="Stately inspector"></iframe>
<script>
  const inspectorUrl = ${url};
  const inspectorOrigin = new URL(inspectorUrl).origin;
  const frame = document.getElementById('inspector');
  const status = document.getElementById('status');
  const received = [];
  let ready = false;
  let state = 'connecting…';
  const show = () => { status.textContent = 'troupe: ' + state + ' · ' + received.length + ' inspection messages' + (ready ? '' : ' (waiting for the Stately inspector to load)'); };
  const post = (message) => frame.contentWindow.postMessage(message, inspectorOrigin);

  window.addEventListener('message', (event) => {
    if (event.source !== frame.contentWindow || event.data?.type !== '@statelyai.connected') return;
    ready = true;
    received.forEach(post);
    show();
  });
  frame.src = inspectorUrl;

  const socket = new WebSocket(location.origin.replace(/^http/, 'ws'));
  socket.onopen = () => { state = 'connected'; show(); };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    received.push(message);
    if (ready) post(message);
    show();
  };
  // No reconnect: a new server would be a new run. What arrived stays in the inspector.
  socket.onclose = () => { state = 'the run closed its inspector (what it sent stays visible)'; show(); };
</script>
</body>
</html>
`;
}
