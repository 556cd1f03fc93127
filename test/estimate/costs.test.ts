// Cost tables: the shipped default loads; a bad table is refused naming the file and the field.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { COST_NAMES, CostTableError, costsFor, loadDefaultCostTable, parseCostTable } from '../../src/estimate/costs.js';

const GOOD = { format: 1, label: 'test table', profiles: { 'x86-tdp': { fault_4k: { ns: 1000 }, dirty_log_slot: { ns: 500, q1: 400, q3: 600 } } } };

function refused(table: unknown, field: RegExp): void {
  assert.throws(
    () => parseCostTable(JSON.stringify(table), 'my-costs.json'),
    (err: Error) => err instanceof CostTableError && err.message.startsWith('my-costs.json: ') && field.test(err.message),
  );
}

describe('cost table', () => {
  it('ships a default from this machine kind, labelled as such, with its claims all positive', () => {
    const { table, file } = loadDefaultCostTable();
    assert.equal(file, 'costs/default.json');
    assert.match(table.label, /this machine kind/);
    const costs = table.profiles['x86-tdp']!;
    assert.ok(Object.keys(costs).length >= 10);
    for (const [name, cost] of Object.entries(costs)) {
      assert.ok(cost!.ns > 0, name);
      assert.ok(cost!.n! >= 1 && cost!.q1! <= cost!.ns && cost!.ns <= cost!.q3!, `${name}: median inside its spread`);
    }
    // Every known cost is either measured or skipped with a reason.
    for (const name of COST_NAMES) assert.ok(costs[name] !== undefined || typeof table.skipped?.[name] === 'string', name);
  });

  it('finds a profile\'s costs by name, else by arch; none for an arch it was not measured on', () => {
    const table = parseCostTable(JSON.stringify(GOOD), 't.json');
    assert.equal(costsFor(table, 'x86-tdp,eager-split=off')!.fault_4k!.ns, 1000);
    assert.equal(costsFor(table, 'arm64-s2'), undefined);
  });

  it('refuses bad tables with the file and the field', () => {
    assert.throws(() => parseCostTable('{', 'my-costs.json'), /^CostTableError: my-costs.json: not valid JSON/);
    refused({ ...GOOD, format: 2 }, /field 'format': must be 1, got 2/);
    refused({ ...GOOD, label: '' }, /field 'label'/);
    refused({ ...GOOD, profiles: [] }, /field 'profiles'/);
    refused({ ...GOOD, profiles: { 'x86-tpd': {} } }, /field 'profiles.x86-tpd': unknown profile/);
    refused({ ...GOOD, profiles: { 'x86-tdp': { fault_8k: { ns: 1 } } } }, /field 'profiles.x86-tdp.fault_8k': unknown cost/);
    refused({ ...GOOD, profiles: { 'x86-tdp': { fault_4k: { ns: -3 } } } }, /field 'profiles.x86-tdp.fault_4k.ns': must be a positive number/);
    refused({ ...GOOD, profiles: { 'x86-tdp': { fault_4k: { ns: '12' } } } }, /fault_4k.ns/);
    refused({ ...GOOD, profiles: { 'x86-tdp': { fault_4k: { ns: 1, q1: 'x' } } } }, /field 'profiles.x86-tdp.fault_4k.q1': must be a number/);
    refused({ ...GOOD, skipped: { wp_fault: 3 } }, /field 'skipped.wp_fault'/);
  });
});
