// The pool's join rule: a free worker takes repeats of a running task only when that can shorten it
// after paying a warm-up replay (and a load) of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_JOIN_WORK_MS, mayJoinLater, newTask, nextTaskIndex, shouldJoin, taskToJoin, unclaimed, type PoolTask } from '../../src/replay/pool-schedule.js';
import type { JobRequest } from '../../src/replay/job.js';
import { DEFAULT_PROFILE } from '../../src/core/profile.js';

function jobs(n: number, tracePath = 't.csv'): JobRequest[] {
  return Array.from({ length: n }, (_, r) => ({ index: r, trace: 't', tracePath, profile: DEFAULT_PROFILE, repeat: r, check: false }));
}

/** A task of `n` repeats, `claimed` of them taken, run by one worker, its last job `jobMs` long. */
function running(n: number, claimed: number, jobMs?: number, loadMs = 0, order = 0): PoolTask {
  const task = newTask(jobs(n), order);
  Atomics.store(task.next, 0, claimed);
  task.runs = 1;
  if (jobMs !== undefined) task.jobMs = jobMs;
  task.loadMs = loadMs;
  return task;
}

test('a task with three or more jobs unclaimed is joined; with two, its own worker finishes sooner alone', () => {
  assert.equal(shouldJoin(running(5, 2, 100)), true);
  assert.equal(shouldJoin(running(5, 3, 100)), false);
});

test('a joiner that must also load the trace needs more jobs left to pay for the load', () => {
  assert.equal(shouldJoin(running(10, 5, 100, 0)), true);
  assert.equal(shouldJoin(running(10, 5, 100, 250)), false, '5 x 100 < 3 x 100 + 250');
  assert.equal(shouldJoin(running(10, 4, 100, 250)), true, '6 x 100 >= 3 x 100 + 250');
});

test('a task whose job time is unknown, tiny, or that no worker runs is not joined', () => {
  assert.equal(shouldJoin(running(5, 1)), false, 'no job finished yet');
  assert.equal(shouldJoin(running(10, 1, (MIN_JOIN_WORK_MS - 1) / 9)), false, 'under MIN_JOIN_WORK_MS in all');
  const idle = running(5, 1, 100);
  idle.runs = 0;
  assert.equal(shouldJoin(idle), false);
});

test('the counter may pass the job count (a closed task, or claims past the end): nothing is unclaimed', () => {
  assert.equal(unclaimed(running(5, 9, 100)), 0);
});

test('a free worker joins the task with the most unclaimed work, the earlier in order on a tie', () => {
  const small = running(5, 1, 100, 0, 0);
  const big = running(5, 1, 300, 0, 1);
  const tie = running(5, 1, 300, 0, 2);
  assert.equal(taskToJoin([small, big, tie]), big);
  assert.equal(taskToJoin([tie, big]), big);
  assert.equal(taskToJoin([running(5, 3, 100)]), undefined);
});

test('a worker waits while a running task may become worth joining, and not once none can', () => {
  assert.equal(mayJoinLater([running(5, 1)]), true, 'four unclaimed, job time not known yet');
  assert.equal(mayJoinLater([running(5, 3)]), false);
  assert.equal(mayJoinLater([]), false);
});

test('a free worker starts the next profile of the trace it holds loaded, else a trace nobody else runs', () => {
  const queue = ['a.csv', 'a.csv', 'b.csv', 'c.csv'].map((path, order) => newTask(jobs(5, path), order));
  assert.equal(nextTaskIndex(queue, 'b.csv', new Set(['a.csv'])), 2, 'its own trace first');
  assert.equal(nextTaskIndex(queue, 'c.csv', new Set(['a.csv'])), 3);
  assert.equal(nextTaskIndex(queue, undefined, new Set(['a.csv'])), 2, 'not a trace another worker has loaded');
  assert.equal(nextTaskIndex(queue, undefined, new Set(['a.csv', 'b.csv', 'c.csv'])), 0, 'in order when every trace is taken');
  assert.equal(nextTaskIndex(queue, 'z.csv', new Set()), 0);
  assert.equal(nextTaskIndex([], 'a.csv', new Set()), -1);
});
