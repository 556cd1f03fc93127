// Escaping for everything that reaches the HTML pages. Trace names and paths come from users' files, so
// they are text, never markup: `<img src=x onerror=...>` must show as those characters.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that is safe inside a <script> element: no `<` (so no `</script>` or `<!--`), no `>` or `&`,
 * and no U+2028/U+2029 (line terminators in older JavaScript). The result is still valid JSON.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A library's source inlined in a <script>: `</script` inside a string literal would end the element. */
export function scriptText(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}
