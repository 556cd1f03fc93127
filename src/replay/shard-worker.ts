// Pool worker entry for one shard of a sharded replay: a loaded trace's cut (`plan`) or a file the
// shard streams itself (`file`). The profile arrives as the parsed object.
import type { Profile } from '../core/profile.js';
import { replayShard, type ShardOutcome, type ShardPlan } from './shard.js';
import { replayShardFile, type ShardFileTask } from './shard-replay.js';

export type ShardTask = { plan: ShardPlan; profile: Profile } | ShardFileTask;

export default function runShard(task: ShardTask): ShardOutcome | Promise<ShardOutcome> {
  return 'plan' in task ? replayShard(task.plan, task.profile) : replayShardFile(task);
}
