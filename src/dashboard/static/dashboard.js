// fleetscan dashboard: keeps every [data-live] block current on a wall screen without reloading
// and without a front-end build. Blocks follow their server-sent events ([data-events]: the
// server reads Redis once per interval for all viewers); where EventSource is missing or its
// stream is refused, the block falls back to fetching its fragment every few seconds.
/* global document, window */
'use strict';

const INTERVAL_MS = 3000;

function setStatus(text, ok, transport) {
  const status = document.getElementById('live-status');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('is-stale', !ok);
  if (transport) status.dataset.transport = transport;
}

const now = () => `${new Date().toISOString().slice(11, 19)} UTC`;

async function refresh(block) {
  const response = await fetch(block.dataset.live, {
    headers: { accept: 'text/html' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  block.innerHTML = await response.text();
}

/** A block holding a half-typed confirmation is left alone: replacing it would wipe the text. */
function isBeingTyped(block) {
  return Array.from(block.querySelectorAll('input[data-confirm-name]')).some(
    (input) => input.value !== '' || input === document.activeElement,
  );
}

/** The fallback: fetch the fragment every INTERVAL_MS (what the page did before events). */
function poll(block) {
  const tick = async () => {
    try {
      if (!isBeingTyped(block)) await refresh(block);
      setStatus(`live · ${now()}`, true, 'poll');
    } catch (error) {
      setStatus(`reconnecting (${error.message})`, false, 'poll');
    } finally {
      setTimeout(tick, INTERVAL_MS);
    }
  };
  setTimeout(tick, INTERVAL_MS);
}

function follow(block) {
  const source = new window.EventSource(block.dataset.events);
  source.addEventListener('open', () => setStatus('live', true, 'sse'));
  source.addEventListener('update', (event) => {
    if (!isBeingTyped(block)) block.innerHTML = event.data;
    setStatus(`live · ${now()}`, true, 'sse');
  });
  source.addEventListener('stale', (event) =>
    setStatus(`reconnecting (${event.data})`, false, 'sse'),
  );
  source.addEventListener('gone', () => {
    source.close();
    setStatus('no longer stored: reload the page', false, 'sse');
  });
  source.addEventListener('error', () => {
    // CLOSED: the stream was refused (not 200 text/event-stream); the browser will not retry.
    if (source.readyState === window.EventSource.CLOSED) {
      poll(block);
    } else {
      setStatus('reconnecting', false, 'sse');
    }
  });
}

// Forms that change a campaign ask first when they carry a confirmation text; cancel and the
// kill switch post only once the campaign's name is typed (the server checks it again).
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof window.HTMLFormElement)) return;
  const named = form.querySelector('input[data-confirm-name]');
  if (named && named.value.trim() !== named.dataset.confirmName.trim()) {
    event.preventDefault();
    named.setCustomValidity(`Type "${named.dataset.confirmName}" exactly`);
    named.reportValidity();
    return;
  }
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener('input', (event) => {
  const input = event.target;
  if (input instanceof window.HTMLInputElement && input.dataset.confirmName !== undefined) {
    input.setCustomValidity('');
  }
});

for (const block of document.querySelectorAll('[data-live]')) {
  if (typeof window.EventSource === 'function' && block.dataset.events) follow(block);
  else poll(block);
}
