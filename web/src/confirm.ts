/**
 * The two-step control of an action that cannot be undone (cancelling a booking, leaving a waitlist,
 * closing a slot): a button that asks first, in place, then acts and shows the API's answer or its refusal.
 */
import { h } from './dom.js';
import { problemText } from './problems.js';

/** What the control says and does. */
export interface Confirming<T> {
  /** The button's text, also the name of the question's group. */
  label: string;
  question: string;
  yes: string;
  no: string;
  /** The "yes" button's text while `run` is under way. */
  working: string;
  /** Ids for the first button and for "yes", where the page addresses them (none by default). */
  ids?: { ask: string; yes: string };
  /** Acts; a throw is a refusal. */
  run(): Promise<T>;
  /** What the page does with the answer (usually redraw, and move the focus there). */
  done(after: T): void | Promise<void>;
  /** Where a refusal is said: it becomes an alert. Emptied each time the question is asked. */
  message: HTMLElement;
  /** A refusal in words (default `problemText`: the API's refusal as one plain sentence). */
  describe?(e: unknown): string;
}

/**
 * A button that asks before it acts: the question and two buttons appear in place (the focus on "yes"; "no"
 * puts the button back, focused). A refusal — in the API's own words (a cut-off passed …) — closes the
 * question and puts the focus back on the button, to try again or not.
 */
export function confirmingButton<T>(o: Confirming<T>): HTMLElement {
  const describe = o.describe ?? problemText;
  const start = h('button', { type: 'button', class: 'secondary danger ask', id: o.ids?.ask }, o.label);
  const yes = h('button', { type: 'button', class: 'primary yes', id: o.ids?.yes }, o.yes);
  const no = h('button', { type: 'button', class: 'secondary no' }, o.no);
  const ask = h('div', { class: 'ask-box', role: 'group', 'aria-label': o.label, hidden: true }, h('p', {}, o.question), h('div', { class: 'buttons' }, yes, no));
  start.addEventListener('click', () => {
    o.message.textContent = '';
    start.hidden = true;
    ask.hidden = false;
    yes.focus();
  });
  no.addEventListener('click', () => {
    ask.hidden = true;
    start.hidden = false;
    start.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = no.disabled = true;
    yes.textContent = o.working;
    try {
      await o.done(await o.run());
    } catch (e) {
      ask.hidden = true;
      start.hidden = false;
      yes.disabled = no.disabled = false;
      yes.textContent = o.yes;
      o.message.setAttribute('role', 'alert');
      o.message.classList.add('error');
      o.message.textContent = describe(e);
      start.focus();
    }
  });
  return h('div', { class: 'confirming' }, start, ask);
}
