// Text that goes to a terminal but came from the user (trace names, profiles, error messages): a
// control character could move the cursor or rewrite the screen, and a bidi override could make a
// name read as something else (Trojan Source, CVE-2021-42574). Each becomes a visible '?'. Very long
// names are cut, so one hostile name cannot push every column of a table off the screen.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The longest name a terminal table shows whole. */
export const MAX_TERMINAL_NAME = 80;

export function terminalText(text: string, max = MAX_TERMINAL_NAME): string {
  const safe = text.replace(UNSAFE, '?');
  // Cut on code points, so a surrogate pair is never split into a lone half.
  const points = [...safe];
  return points.length <= max ? safe : `${points.slice(0, max - 1).join('')}\u2026`;
}
