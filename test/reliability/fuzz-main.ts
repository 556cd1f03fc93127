// `npm run fuzz [cases] [seed]`: the fuzz harness at length (default 3,000 cases). Prints each
// failure with its seed and case number and exits 1 if there is any.

import { fuzz } from './fuzz.js';

const cases = Number(process.argv[2] ?? 3000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
process.stderr.write(`fuzz: ${cases} cases, seed ${seed}\n`);
const started = performance.now();
const failures = await fuzz({
  seed,
  cases,
  maxCaseMs: 20_000,
  maxRssBytes: 2 * 2 ** 30,
  onProgress: (done) => {
    if (done % 250 === 0) process.stderr.write(`fuzz: ${done}/${cases}\n`);
  },
  onFailure: (f) => process.stdout.write(`case ${f.index} (seed ${f.seed}) ${f.command} ${f.file}: ${f.why}\n${f.output}\n`),
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`fuzz: ${cases} cases, seed ${seed}, ${failures.length} failure(s), ${seconds.toFixed(1)} s, peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
process.exitCode = failures.length > 0 ? 1 : 0;
