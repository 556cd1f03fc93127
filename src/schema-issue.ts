// The first issue of a failed zod parse as a field path (`jobs[0].repeat`) and a message: what the
// trace reader (.s2t JSON) and the run-directory reader put into their errors.

import type { z } from 'zod';

export function firstIssue(error: z.ZodError): { path: string; message: string } {
  const issue = error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return { path, message: issue.message };
}
