import { readFileSync } from 'node:fs';

/** The version in package.json, read at run time so that it is never out of step with the package. */
export function readPackageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
