// The live counter of the flows editor and the reply box: under every text, its encoding and segments
// as it will be sent (placeholders filled, Spanish plain when the program says so), with one-click GSM-7
// replacement.
const form = document.querySelector('[data-segments-url]');
const token = document.querySelector('input[name=csrf_token]').value;
const field = (name) => (document.querySelector(`[name='${name}']`) || {}).value || '';

async function count(area) {
  const response = await fetch(form.dataset.segmentsUrl, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: JSON.stringify({text: area.value, language: area.dataset.language || 'en',
                          plain_spanish: form.dataset.plainSpanish !== 'false',
                          program: field('program.name'), phone: field('program.phone')})});
  const info = await response.json();
  let out = area.nextElementSibling;
  if (!out || !out.classList.contains('count')) {
    out = document.createElement('span'); out.className = 'count'; out.setAttribute('aria-live', 'polite');
    area.after(out);
  }
  out.textContent = `as sent: ${info.encoding}, ${info.units} characters, ${info.segments} segment(s)`;
  out.classList.toggle('warn', info.encoding !== 'GSM-7' || info.segments > 3);
  if (info.non_gsm.length) {
    const fix = document.createElement('button'); fix.type = 'button'; fix.className = 'link';
    fix.textContent = ` Replace non-GSM characters (${info.non_gsm.join(' ')})`;
    fix.addEventListener('click', () => { area.value = info.gsm; count(area); });
    out.append(fix);
  }
}
if (form) document.querySelectorAll('textarea.sms').forEach((area) => {
  count(area);
  area.addEventListener('input', () => count(area));
});

// The builder: the picture (and, on a phone, the outline) is the map; choosing a step opens its panel
// without a reload (every step's fields stay in the one form, so nothing typed is lost) and remembers
// which step is open for the next save.
const builder = document.getElementById('flow-form');
const focusField = builder ? builder.querySelector('input[name=focus]') : null;
function openStep(name, moveFocus) {
  const panel = document.getElementById(`step-${name}`);
  if (!panel || !focusField) return false;
  document.querySelectorAll('fieldset.step').forEach((f) => { f.hidden = f !== panel; });
  document.querySelectorAll('.flow-picture g.step').forEach((g) => g.classList.toggle('chosen', g.dataset.step === name));
  document.querySelectorAll('.outline li').forEach((li) => {
    const link = li.querySelector('[data-edit]');
    li.classList.toggle('chosen', !!link && link.dataset.edit === name);
  });
  focusField.value = name;
  if (moveFocus) {
    const url = new URL(window.location.href); url.searchParams.set('step', name);
    window.history.replaceState(null, '', url);
  }
  if (moveFocus) {
    const first = panel.querySelector('textarea, input:not([type=hidden]), select, button');
    if (first) first.focus();
    if (panel.scrollIntoView && window.innerWidth < 1024) panel.scrollIntoView({block: 'start'});
  }
  return true;
}
if (builder && focusField) {
  // Without script every step stays on the page (a link to another step would lose what was typed);
  // with it, only the open one shows.
  openStep(focusField.value, false);
  document.addEventListener('click', (event) => {
    const link = event.target.closest('[data-edit]');
    if (link && openStep(link.dataset.edit, true)) event.preventDefault();
  });
  const newStep = document.getElementById('new_step');
  if (newStep) newStep.addEventListener('keydown', (event) => {  // Enter here adds the step, not a save
    if (event.key !== 'Enter') return;
    event.preventDefault();
    document.querySelector('button[value=add_step]').click();
  });
}

// The picture pans (it scrolls inside its frame at its own size, readable) and zooms (Smaller, Larger).
document.querySelectorAll('[data-zoom]').forEach((button) => button.addEventListener('click', () => {
  const svg = document.querySelector('.map .flow-picture');
  if (!svg) return;
  const natural = Number(svg.getAttribute('width'));
  const now = svg.getBoundingClientRect().width / natural;
  const scale = Math.min(2, Math.max(0.4, now * (button.dataset.zoom === '1' ? 1.25 : 0.8)));
  svg.style.width = `${Math.round(natural * scale)}px`;
  svg.style.height = 'auto';
}));

// The open step is in sight in the picture's frame.
function centreChosen() {
  const frame = document.querySelector('.map .picture');
  const box = frame && frame.querySelector('g.step.chosen');
  if (!box || !frame.clientWidth) return;
  const b = box.getBoundingClientRect(); const f = frame.getBoundingClientRect();
  frame.scrollLeft += (b.left + b.width / 2) - (f.left + f.width / 2);
  frame.scrollTop += (b.top + b.height / 2) - (f.top + f.height / 2);
}
centreChosen();
document.addEventListener('click', (event) => { if (event.target.closest('.outline [data-edit]')) centreChosen(); });
