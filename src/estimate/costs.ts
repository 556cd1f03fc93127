// The cost table: what each modeled event costs on some machine, in nanoseconds, per profile.
// `s2bench calibrate` writes one from measurements on /dev/kvm (src/calibrate/); the project ships one
// from this machine kind (costs/default.json) and `--costs FILE` takes the user's own. Validated on
// load: a bad table is an error naming the file and the field (docs/calibration.md).

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-info.js';
import { parseProfile, type Profile } from '../core/profile.js';
import { InputError, ProfileError } from '../errors.js';

/** Every cost a table may hold, with what one unit of it is. */
export const COSTS = {
  fault_4k: 'first-touch fault mapping a 4K page of anonymous memory (the guest stall beyond a hit)',
  fault_2m: 'first-touch fault mapping a 2M THP-backed page',
  hit: 'guest write to an already-mapped page (the guest loop\'s own cost per page)',
  run_roundtrip: 'KVM_RUN that only runs a hlt: the floor of one recorded access (one KVM_RUN per page)',
  wp_fault: 'write-protect fault on a dirty-logged slot after a harvest',
  dirty_log_slot: 'KVM_GET_DIRTY_LOG call with nothing dirty',
  dirty_log_page: 'KVM_GET_DIRTY_LOG per dirty page harvested (and write-protected again)',
  memslot_create: 'KVM_SET_USER_MEMORY_REGION2 creating a slot',
  memslot_delete: 'KVM_SET_USER_MEMORY_REGION2 deleting a slot with nothing mapped',
  memslot_flags: 'KVM_SET_USER_MEMORY_REGION2 turning dirty logging on, nothing mapped',
  memslot_zap: 'per mapping a memslot change zaps',
  memslot_wrprot: 'per mapping dirty logging being turned on write-protects',
  uffd_roundtrip: 'userfaultfd round trip (handler thread, UFFDIO_COPY) beyond a plain first touch',
  gmem_punch: 'fallocate(PUNCH_HOLE) of one allocated guest_memfd page',
  gmem_punch_page: 'fallocate(PUNCH_HOLE) per further page punched',
  attributes_call: 'KVM_SET_MEMORY_ATTRIBUTES call converting one page',
  attributes_page: 'KVM_SET_MEMORY_ATTRIBUTES per further page converted',
} as const;
export type CostName = keyof typeof COSTS;
export const COST_NAMES = Object.keys(COSTS) as CostName[];

export interface Cost {
  /** Median over the repeats, in ns per unit. */
  ns: number;
  /** What one unit is (a fault, a call, a page...). */
  per?: string;
  /** Spread over the repeats: quartiles and extremes of the samples, and how many there were. */
  q1?: number;
  q3?: number;
  min?: number;
  max?: number;
  n?: number;
  /** How it was measured (batch size, mappings zapped...). */
  how?: string;
}

export type ProfileCosts = Partial<Record<CostName, Cost>>;

export interface CostTable {
  format: 1;
  /** Where the numbers come from, shown beside every estimate. */
  label: string;
  /** Costs by profile name (`x86-tdp`) or arch; a profile with knobs falls back to its arch's table. */
  profiles: Record<string, ProfileCosts>;
  /** Costs this host could not measure, and why. */
  skipped?: Record<string, string>;
  /** Anything else `calibrate` recorded (host, command, validation): kept, not interpreted. */
  [extra: string]: unknown;
}

/** A table and the file it came from (for labels and error messages). */
export interface LoadedCostTable {
  table: CostTable;
  file: string;
}

/** A cost table that is not one: an input error naming the file and field. */
export class CostTableError extends InputError {
  override name = 'CostTableError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const OPTIONAL_NUMBERS = ['q1', 'q3', 'min', 'max', 'n'] as const;

/** Validates parsed JSON as a cost table; errors name the file and the field. */
export function checkCostTable(value: unknown, file: string): CostTable {
  const fail = (field: string, why: string): never => {
    throw new CostTableError(`${file}: field '${field}': ${why}`);
  };
  if (!isObject(value)) throw new CostTableError(`${file}: a cost table is a JSON object`);
  if (value['format'] !== 1) fail('format', `must be 1, got ${JSON.stringify(value['format'])}`);
  if (typeof value['label'] !== 'string' || value['label'].trim() === '') fail('label', 'must be a non-empty string');
  const profiles = value['profiles'];
  if (!isObject(profiles)) return fail('profiles', 'must be an object of profile name -> costs');
  for (const [name, costs] of Object.entries(profiles)) {
    try {
      parseProfile(name);
    } catch (err) {
      if (err instanceof ProfileError) fail(`profiles.${name}`, err.message);
      throw err;
    }
    if (!isObject(costs)) fail(`profiles.${name}`, 'must be an object of cost name -> {ns, ...}');
    for (const [cost, entry] of Object.entries(costs as Record<string, unknown>)) {
      const at = `profiles.${name}.${cost}`;
      if (!(COST_NAMES as readonly string[]).includes(cost)) fail(at, `unknown cost; known costs are ${COST_NAMES.join(', ')}`);
      if (!isObject(entry)) fail(at, 'must be an object with a positive number ns');
      const e = entry as Record<string, unknown>;
      if (typeof e['ns'] !== 'number' || !Number.isFinite(e['ns']) || e['ns'] <= 0) fail(`${at}.ns`, `must be a positive number of nanoseconds, got ${JSON.stringify(e['ns'])}`);
      for (const k of OPTIONAL_NUMBERS) {
        if (e[k] !== undefined && (typeof e[k] !== 'number' || !Number.isFinite(e[k]))) fail(`${at}.${k}`, `must be a number, got ${JSON.stringify(e[k])}`);
      }
      for (const k of ['per', 'how']) {
        if (e[k] !== undefined && typeof e[k] !== 'string') fail(`${at}.${k}`, 'must be a string');
      }
    }
  }
  const skipped = value['skipped'];
  if (skipped !== undefined) {
    if (!isObject(skipped)) fail('skipped', 'must be an object of cost name -> reason');
    for (const [k, why] of Object.entries(skipped as Record<string, unknown>)) if (typeof why !== 'string') fail(`skipped.${k}`, 'must be a string');
  }
  return value as CostTable;
}

export function parseCostTable(text: string, file: string): CostTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CostTableError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return checkCostTable(json, file);
}

export async function loadCostTable(file: string): Promise<LoadedCostTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CostTableError(`${file}: cannot read the cost table: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { table: parseCostTable(text, file), file };
}

/** The table shipped with the project (costs/default.json), measured on this machine kind. */
export const DEFAULT_COSTS_FILE = join('costs', 'default.json');

export function loadDefaultCostTable(): LoadedCostTable {
  const file = join(packageRoot(), DEFAULT_COSTS_FILE);
  return { table: parseCostTable(readFileSync(file, 'utf8'), DEFAULT_COSTS_FILE), file: DEFAULT_COSTS_FILE };
}

/** `--costs FILE` when given, else the shipped default. */
export async function resolveCostTable(file: string | undefined): Promise<LoadedCostTable> {
  return file === undefined ? loadDefaultCostTable() : loadCostTable(file);
}

/** The costs a profile's estimates use: its own entry, else its arch's; undefined when the table has neither. */
export function costsFor(table: CostTable, profile: Profile | string): ProfileCosts | undefined {
  const p = typeof profile === 'string' ? parseProfile(profile) : profile;
  return table.profiles[p.name] ?? table.profiles[p.arch];
}

/** One line naming a table's source, shown wherever estimates are. */
export function costSource(loaded: LoadedCostTable): string {
  return `${loaded.table.label} (${loaded.file})`;
}
