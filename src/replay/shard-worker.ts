// Pool worker entry for one shard of a sharded replay.
import { parseProfile } from '../core/profile.js';
import { replayShard, type ShardOutcome, type ShardPlan } from './shard.js';

export default function runShard(task: { plan: ShardPlan; profile: string }): ShardOutcome {
  return replayShard(task.plan, parseProfile(task.profile));
}
