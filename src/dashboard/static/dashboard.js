// fleetscan dashboard: refreshes every [data-live] block from its server-rendered fragment, so
// the page stays current on a wall screen without reloading and without a front-end build.
/* global document, window */
'use strict';

const INTERVAL_MS = 3000;

function setStatus(text, ok) {
  const status = document.getElementById('live-status');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('is-stale', !ok);
}

async function refresh(block) {
  const response = await fetch(block.dataset.live, {
    headers: { accept: 'text/html' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  block.innerHTML = await response.text();
}

async function tick() {
  const blocks = Array.from(document.querySelectorAll('[data-live]'));
  try {
    await Promise.all(blocks.map(refresh));
    setStatus(`live · ${new Date().toISOString().slice(11, 19)} UTC`, true);
  } catch (error) {
    setStatus(`reconnecting (${error.message})`, false);
  } finally {
    setTimeout(tick, INTERVAL_MS);
  }
}

// Forms that change a campaign ask first when they carry a confirmation text.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form instanceof window.HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});

if (document.querySelector('[data-live]')) setTimeout(tick, INTERVAL_MS);
