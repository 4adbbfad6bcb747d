// A consumer group's state on one owned partition: CLUSTERING = one shared cursor, each record
// to one member; BROADCASTING = one cursor per member, every member gets every record. The
// group's committed offset is the minimum commit position over its cursors (for BROADCASTING:
// what every member has handled). Also: where a new cursor starts (SubscribeOptions.from/replay).
import type { GroupMode, StartPosition } from './types.js';
import type { OwnedPartition } from './owned-partition.js';
import { PartitionCursor } from './partition-cursor.js';

const CLUSTER_KEY = '';

export class GroupPartition {
  readonly cursors = new Map<string, PartitionCursor>();
  /** Last committed offset (fetched at creation or written since); undefined = none. */
  committed: number | undefined;
  /** Commit position changed since the last commit. */
  dirty = false;

  constructor(readonly part: OwnedPartition, readonly name: string, readonly mode: GroupMode) {}

  cursorFor(memberId: string): PartitionCursor | undefined {
    return this.cursors.get(this.mode === 'CLUSTERING' ? CLUSTER_KEY : memberId);
  }

  addCursor(memberId: string, start: number): PartitionCursor {
    const c = new PartitionCursor(this.part, this, start);
    this.cursors.set(this.mode === 'CLUSTERING' ? CLUSTER_KEY : memberId, c);
    return c;
  }

  removeCursor(memberId: string): PartitionCursor | undefined {
    const key = this.mode === 'CLUSTERING' ? CLUSTER_KEY : memberId;
    const c = this.cursors.get(key);
    if (c) { c.closed = true; this.cursors.delete(key); }
    return c;
  }

  get memberCount(): number {
    let n = 0;
    for (const c of this.cursors.values()) n += c.members.length;
    return n;
  }

  /** Offset the group may commit: everything below is handled by every cursor. */
  commitPosition(): number | undefined {
    let min: number | undefined;
    for (const c of this.cursors.values()) {
      const p = c.commitPosition();
      if (min === undefined || p < min) min = p;
    }
    return min;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Start offset of a new cursor: the committed offset unless `replay` or none is committed,
 *  else `from`. Anything outside the retained range is clamped to [start, end]. */
export async function startOffset(part: OwnedPartition, from: StartPosition, replay: boolean, committed: number | undefined): Promise<number> {
  await part.refreshBounds();
  const { start, end } = part;
  if (!replay && committed !== undefined) return clamp(committed, start, end);
  if (from === 'latest') return end;
  if (from === 'earliest') return start;
  if ('offset' in from) return clamp(from.offset, start, end);
  return clamp(await part.offsetForTimestamp(from.timestamp), start, end);
}
