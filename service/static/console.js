// The console's small behaviours, with no inline script (the pages' Content-Security-Policy forbids it).
// A form, or the button that sends it, with data-confirm asks before it is sent.
document.addEventListener('submit', (event) => {
  const button = event.submitter;
  const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// Live pages (the inbox, a conversation): every second, ask for the page's changing part with the version
// it shows (If-None-Match): a 304 costs the server one Redis read; otherwise the new part comes back and
// is swapped in (not while the user is typing in it). Other pages ask only for the header's crisis count.
// A new crisis shows a cue at the top (and a sound, if this browser asked for one). Polling is not
// activity: an idle session still ends, and then polling stops and says so.
const live = document.getElementById('live');
const counter = document.getElementById('crisis-count');
const sound = document.getElementById('crisis-sound');
if (sound) {
  sound.checked = localStorage.getItem('crisis-sound') === 'on';
  sound.addEventListener('change', () => localStorage.setItem('crisis-sound', sound.checked ? 'on' : 'off'));
}
let etag = live ? `"${live.dataset.version}"` : null;
let crises = counter ? Number(counter.dataset.count) : 0;

function beep() {
  if (localStorage.getItem('crisis-sound') !== 'on') return;
  try {
    const audio = new AudioContext(); const tone = audio.createOscillator();
    tone.frequency.value = 880; tone.connect(audio.destination); tone.start(); tone.stop(audio.currentTime + 0.4);
  } catch (e) { /* no audio here */ }
}

function cue(text, href) {
  const box = document.getElementById('live-cue');
  box.hidden = false;
  box.textContent = '';
  const link = document.createElement('a'); link.href = href; link.textContent = text;
  box.append(link);
}

function showCrises(count) {
  if (!counter || Number.isNaN(count)) return;
  counter.textContent = `${count} open cris${count === 1 ? 'is' : 'es'}`;
  counter.dataset.count = count;
  counter.classList.toggle('open', count > 0);
  if (count > crises) { cue('New crisis message: open the crises page', counter.href); beep(); }
  crises = count;
}

// A poll answered by the sign-in page (or refused): the session ended; polling stops and says so.
function sessionEnded(response) {
  if (response.type !== 'opaqueredirect' && response.status !== 401 && response.status !== 403) return false;
  cue('Your session ended: reload the page to sign in again', window.location.href);
  return true;
}

async function poll() {
  const url = live ? live.dataset.fragment : counter.dataset.changes;
  let response;
  try {
    response = await fetch(url, {headers: etag ? {'If-None-Match': etag} : {}, cache: 'no-store', redirect: 'manual'});
  } catch (e) {
    setTimeout(poll, 1000); // offline for a moment: try again
    return;
  }
  if (sessionEnded(response)) return;
  if (response.status === 200) {
    if (live) {
      showCrises(Number(response.headers.get('X-Crisis-Count')));
      const html = await response.text();
      // Never redraw under a keyboard user's focus: keep the old version, so the next poll brings it again.
      if (!live.contains(document.activeElement)) {
        live.innerHTML = html;
        etag = response.headers.get('ETag');
      }
    } else {
      etag = response.headers.get('ETag');
      showCrises((await response.json()).crisis);
    }
  } else if (response.status === 304 && live) {
    showCrises(Number(response.headers.get('X-Crisis-Count')));
  }
  setTimeout(poll, 1000);
}
if (live || (counter && counter.dataset.changes)) setTimeout(poll, 1000);

// The simulator: its parts (the phone's transcript, their clock and what is due, the outbox) refresh every
// second while they change (a 304 otherwise), never under the user's focus; its forms are sent without a
// reload and their answer is shown in a status line a screen reader announces.
const sim = document.getElementById('sim');
if (sim) {
  const note = document.getElementById('sim-note');
  let simTag = null;
  let timer = null;
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const response = await fetch(sim.dataset.fragment, {headers: simTag ? {'If-None-Match': simTag} : {},
                                                           cache: 'no-store', redirect: 'manual'});
      if (sessionEnded(response)) return;
      showCrises(Number(response.headers.get('X-Crisis-Count')));
      if (response.status === 200) {
        const parts = await response.json();
        let busy = false;
        for (const [id, html] of Object.entries(parts)) {
          const part = document.getElementById(id);
          if (!part) continue;
          if (part.contains(document.activeElement)) { busy = true; continue; }
          if (part.innerHTML === html) continue;
          const before = part.querySelectorAll('li').length;
          part.innerHTML = html;
          const heard = document.getElementById('sim-heard');
          const items = part.querySelectorAll('#transcript li .body');
          if (id === 'sim-transcript' && heard && items.length > before) {  // only the new text is announced
            heard.textContent = items[items.length - 1].textContent;
          }
        }
        if (!busy) simTag = response.headers.get('ETag');
      }
    } catch (e) { /* offline for a moment: the next tick tries again */ }
    timer = setTimeout(refresh, 1000);
  };
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!form.hasAttribute('data-sim') || event.defaultPrevented) return;
    event.preventDefault();
    const data = new FormData(form, event.submitter);
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch(form.action, {method: 'POST', body: data, headers: {Accept: 'application/json'}});
      const answer = (response.headers.get('Content-Type') || '').includes('json') ? await response.json() : null;
      note.hidden = !(answer && answer.note);
      note.textContent = answer ? answer.note : `The server answered ${response.status}.`;
      if (!answer) note.hidden = false;
      if (response.ok && form.classList.contains('compose')) form.reset();
    } catch (e) {
      note.hidden = false;
      note.textContent = 'Could not reach the console: try again.';
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
    simTag = null;
    refresh();
  });
  timer = setTimeout(refresh, 1000);
}
