// The console's small behaviours, with no inline script (the pages' Content-Security-Policy forbids it).
// A form, or the button that sends it, with data-confirm asks before it is sent.
document.addEventListener('submit', (event) => {
  const button = event.submitter;
  const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// Live pages (the inbox, a conversation): poll the inbox version with a conditional GET every second
// (a 304 costs the server one Redis GET); when it changed, fetch the page's list again and swap it in.
// A new crisis shows a cue at the top (and a sound, if this browser asked for one).
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

function showCrises(count) {
  if (!counter) return;
  counter.textContent = `${count} open cris${count === 1 ? 'is' : 'es'}`;
  counter.dataset.count = count;
  counter.classList.toggle('open', count > 0);
  if (count > crises) {
    const cue = document.getElementById('live-cue');
    cue.hidden = false;
    cue.innerHTML = '';
    const link = document.createElement('a'); link.href = counter.href;
    link.textContent = 'New crisis message: open the crises page';
    cue.append(link);
    beep();
  }
  crises = count;
}

async function poll() {
  try {
    const changes = live ? live.dataset.changes : (counter && counter.dataset.changes);
    const response = await fetch(changes, {headers: etag ? {'If-None-Match': etag} : {}, cache: 'no-store'});
    if (response.status === 200) {
      etag = response.headers.get('ETag');
      const info = await response.json();
      showCrises(info.crisis);
      if (live && live.dataset.fragment) {
        const page = await fetch(live.dataset.fragment, {cache: 'no-store'});
        if (page.ok && !live.contains(document.activeElement)) live.innerHTML = await page.text();
        else if (page.ok) live.dataset.stale = 'yes';
      }
    }
  } catch (e) { /* offline for a moment: the next poll tries again */ }
  setTimeout(poll, 1000);
}
if (live || (counter && counter.dataset.changes)) setTimeout(poll, 1000);
