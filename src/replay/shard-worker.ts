// Pool worker entry for one shard of a sharded replay. The profile arrives as the parsed object.
import type { Profile } from '../core/profile.js';
import { replayShard, type ShardOutcome, type ShardPlan } from './shard.js';

export default function runShard(task: { plan: ShardPlan; profile: Profile }): ShardOutcome {
  return replayShard(task.plan, task.profile);
}
