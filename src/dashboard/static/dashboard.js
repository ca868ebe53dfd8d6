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

/** A block holding a half-typed confirmation is left alone: replacing it would wipe the text. */
function isBeingTyped(block) {
  return Array.from(block.querySelectorAll('input[data-confirm-name]')).some(
    (input) => input.value !== '' || input === document.activeElement,
  );
}

async function tick() {
  const blocks = Array.from(document.querySelectorAll('[data-live]')).filter(
    (block) => !isBeingTyped(block),
  );
  try {
    await Promise.all(blocks.map(refresh));
    setStatus(`live · ${new Date().toISOString().slice(11, 19)} UTC`, true);
  } catch (error) {
    setStatus(`reconnecting (${error.message})`, false);
  } finally {
    setTimeout(tick, INTERVAL_MS);
  }
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

if (document.querySelector('[data-live]')) setTimeout(tick, INTERVAL_MS);
