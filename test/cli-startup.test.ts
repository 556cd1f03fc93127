// What the command line loads before a command runs. Every `s2bench` process pays for it, `--version`
// and `--help` too, so registering the commands must load none of their work (the rule is in
// src/cli/commands/index.ts). Checked by module, not by time: a loader hook in the child lists every
// module it loads, so a static import of the core (or a report, a trace reader, ...) in a command's
// registration fails here on any machine, however fast.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { COMMANDS } from '../src/cli/commands/index.js';
import { GENERATORS } from '../src/trace/generators/index.js';
import { CLI_PATH, runCliOk } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * All that registration may load besides src/cli/commands/: the entry and its error mapping, and the
 * leaf modules holding a default that some help text shows. Nothing here imports anything heavy.
 */
const LIGHT = new Set([
  'cli/main',
  'cli/program',
  'cli/exit-codes',
  'errors',
  'package-info',
  'core/profile',
  'trace/max-events',
  'report/compare-options',
  'record-vm/summary-profiles',
]);
const LIGHT_PACKAGES = new Set(['commander']);

const dataUrl = (code: string): string => `data:text/javascript,${encodeURIComponent(code)}`;

/** Appends the URL of every module the process loads to the file given at registration. */
const LIST_LOADS = dataUrl(`
import { appendFileSync } from 'node:fs';
let list;
export function initialize(data) { list = data.list; }
export async function load(url, context, nextLoad) { appendFileSync(list, url + '\\n'); return nextLoad(url, context); }
`);

/** The modules `node ...nodeArgs` loads: s2bench's as paths under src/ without extension, packages by name. */
async function modulesLoaded(nodeArgs: string[]): Promise<{ own: string[]; packages: string[]; stdout: string }> {
  const list = join(await tempDir('startup'), 'loaded.txt');
  const register = dataUrl(`import { register } from 'node:module'; register(${JSON.stringify(LIST_LOADS)}, { data: { list: ${JSON.stringify(list)} } });`);
  const child = spawnSync(process.execPath, [...process.execArgv, '--import', register, ...nodeArgs], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const own = new Set<string>();
  const packages = new Set<string>();
  for (const url of readFileSync(list, 'utf8').split('\n')) {
    if (!url.startsWith('file:')) continue;
    const path = fileURLToPath(url);
    const pkg = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(path);
    if (pkg !== null) packages.add(pkg[1]!);
    else if (path.startsWith(SRC)) own.add(path.slice(SRC.length).replace(/\\/g, '/').replace(/\.(js|ts)$/, ''));
  }
  return { own: [...own], packages: [...packages], stdout: child.stdout };
}

function assertLight(loaded: { own: string[]; packages: string[] }, what: string): void {
  assert.ok(loaded.own.includes('cli/commands/index'), `the loader hook saw no module of ${what}`);
  const heavy = loaded.own.filter((m) => !m.startsWith('cli/commands/') && !LIGHT.has(m));
  assert.deepEqual(heavy, [], `${what} loads modules that belong to a command's work (src/cli/commands/index.ts)`);
  assert.deepEqual(loaded.packages.filter((p) => !LIGHT_PACKAGES.has(p)), [], `${what} loads packages beyond commander`);
}

/** Every command and subcommand as the words that name it, e.g. ['import', 'strace'], gen's generators aside. */
async function commandPaths(): Promise<string[][]> {
  const program = new Command('s2bench');
  for (const register of COMMANDS) await register(program, []);
  const paths: string[][] = [];
  const walk = (cmd: Command, prefix: string[]): void => {
    for (const sub of cmd.commands) {
      paths.push([...prefix, sub.name()]);
      walk(sub, [...prefix, sub.name()]);
    }
  };
  walk(program, []);
  return paths.filter((words) => words[0] !== 'gen');
}

test('s2bench --version loads commander and the commands\' registration, nothing of their work', async () => {
  assertLight(await modulesLoaded([CLI_PATH, '--version']), '--version');
});

test('--help of the program and of every command but gen loads none of any command\'s work', async () => {
  const helps = [['--help'], ...(await commandPaths()).map((words) => [...words, '--help'])];
  assert.ok(helps.length > 15, `only ${helps.length} commands found`);
  // One process runs them all (runCli returns on --help); whatever any of them loaded is in the list.
  const program = CLI_PATH.replace(/main\.(js|ts)$/, 'program.$1');
  const script = `import { runCli } from ${JSON.stringify(program)};\nfor (const words of ${JSON.stringify(helps)}) await runCli(['node', 's2bench', ...words]);`;
  const loaded = await modulesLoaded(['--input-type=module', '--eval', script]);
  assert.match(loaded.stdout, /Usage: s2bench import strace/);
  assertLight(loaded, helps.map((words) => words.join(' ')).join(', '));
});

test('gen, registered late, still lists every generator: gen --help, help gen, gen NAME --help', async () => {
  for (const words of [['gen', '--help'], ['help', 'gen']]) {
    const { stdout } = await runCliOk(words);
    for (const g of GENERATORS) assert.match(stdout, new RegExp(`^  ${g.name} \\[options\\]`, 'm'), `${words.join(' ')}: ${g.name}`);
  }
  const { stdout } = await runCliOk(['gen', 'dirty-log', '--help']);
  assert.match(stdout, /^Usage: s2bench gen dirty-log \[options\]$/m);
  assert.match(stdout, /--vcpu-pages <value>/);
});
