// fleetscan dashboard, new-campaign page: shows the chosen source's fields, sends the device list
// (pasted text or the chosen file, as it is) as the request body and the other fields in the
// query string, shows the server's preview, and starts the campaign from its confirm button.
/* global document, window */
'use strict';

const form = document.getElementById('new-campaign');
const previewBox = document.getElementById('preview');
const errorBox = document.getElementById('start-error');

/** Fields that travel in the query string (the list and the file go in the body). */
const QUERY_FIELDS = [
  'source',
  'column',
  'query',
  'tags',
  'group',
  'incident',
  'alert',
  'tenant',
  'priority',
  'scanType',
  'window',
  'name',
  'comment',
];

function showSourceFields() {
  const source = form.elements.source.value;
  for (const fieldset of form.querySelectorAll('[data-source-fields]')) {
    fieldset.hidden = !fieldset.dataset.sourceFields.split(' ').includes(source);
  }
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = message === '';
}

/** The request of the form as it is now: query string and body, or an error to show. */
function currentRequest() {
  const params = new URLSearchParams();
  for (const name of QUERY_FIELDS) {
    const field = form.elements[name];
    if (field && field.value.trim() !== '') params.set(name, field.value);
  }
  if (form.elements.includeInactive.checked) params.set('includeInactive', '1');
  // The list and the hunting query travel as the body: pasted text, or the chosen file as it is.
  const BODIES = { list: ['ids', 'upload', 'ids'], hunting: ['kql', 'huntingFile', 'query'] };
  const body = BODIES[form.elements.source.value];
  if (!body) return { params, body: undefined };
  const [textName, fileName, what] = body;
  const file = form.elements[fileName].files[0];
  const pasted = form.elements[textName].value;
  if (file && pasted.trim() !== '') {
    return {
      error: `Give either a pasted ${what === 'ids' ? 'list' : 'query'} or a file, not both.`,
    };
  }
  if (file) {
    params.set('file', file.name);
    return { params, body: file };
  }
  params.set('file', 'pasted');
  return { params, body: new Blob([pasted]) };
}

async function send(path) {
  const request = currentRequest();
  if (request.error) {
    showError(request.error);
    return null;
  }
  showError('');
  const response = await fetch(`${path}?${request.params.toString()}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/octet-stream',
      'x-csrf-token': form.dataset.csrf,
      accept: 'application/json, text/html',
    },
    body: request.body ?? new Blob([]),
  });
  if (response.ok) return response;
  let message = `HTTP ${response.status}`;
  try {
    message = (await response.json()).error ?? message;
  } catch {
    // not JSON: keep the status
  }
  showError(message);
  return null;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  previewBox.innerHTML = '';
  const response = await send('/campaigns/new/preview');
  if (response) previewBox.innerHTML = await response.text();
});

// A preview is of the form as it was: any change takes it (and its confirm button) away.
form.addEventListener('input', () => {
  previewBox.innerHTML = '';
});
form.addEventListener('change', () => {
  previewBox.innerHTML = '';
  showSourceFields();
});

previewBox.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-confirm-start]');
  if (!button) return;
  button.disabled = true;
  const response = await send('/campaigns/new/start');
  if (!response) {
    button.disabled = false;
    return;
  }
  window.location.assign((await response.json()).location);
});

showSourceFields();
