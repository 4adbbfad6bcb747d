// The unacknowledged deliveries of one connection by tag (docs/protocol-binary.md "DELIVER").
// Tags are handed out in order, so the table is an array indexed from the oldest tag still
// held: no Map entry and no wrapper object per delivery (both lived as long as the delivery was
// unacked, so on a subscriber with thousands in flight they reached the old generation).
// A tag the client never acks would pin the array's start and let it grow with every later
// delivery: once the array is mostly holes, the held entries of its older half move to a small
// Map, so memory follows the number of entries held, not the tags handed out since the oldest.
export class TagTable<D, S> {
  private items: (D | undefined)[] = [];
  private owners: (S | undefined)[] = [];
  /** Index in `items` of tag `base`. */
  private head = 0;
  private base = 0;
  /** Held entries with tags below `base`. */
  private readonly old = new Map<number, { item: D; owner: S }>();
  /** Tag of the next add(). */
  next = 0;
  /** Entries held. */
  size = 0;

  constructor(private readonly spanLimit = 65536) {}

  /** Holds `item` (delivered on subscription `owner`) under the next tag; returns the tag. */
  add(item: D, owner: S): number {
    this.items.push(item);
    this.owners.push(owner);
    this.size++;
    const span = this.items.length - this.head;
    if (span > this.spanLimit && span > 4 * this.size) this.evictOlderHalf();
    return this.next++;
  }

  get(tag: number): D | undefined {
    if (tag < this.base) return this.old.get(tag)?.item;
    const i = this.index(tag);
    return i < 0 ? undefined : this.items[i];
  }

  /** Removes and returns the entry of `tag` (undefined: never handed out, or taken already). */
  take(tag: number): D | undefined {
    if (tag < this.base) {
      const e = this.old.get(tag);
      if (e === undefined) return undefined;
      this.old.delete(tag);
      this.size--;
      return e.item;
    }
    const i = this.index(tag);
    if (i < 0) return undefined;
    const item = this.items[i];
    if (item === undefined) return undefined;
    this.items[i] = undefined;
    this.owners[i] = undefined;
    this.size--;
    this.trim();
    return item;
  }

  /** Takes every entry of tags [first, first + count) that is still held, in tag order. */
  takeRange(first: number, count: number, fn: (item: D) => void): void {
    const end = Math.min(first + count, this.next);
    if (this.old.size > 0 && first < this.base) {
      const tags = [...this.old.keys()].filter((t) => t >= first && t < end).sort((a, b) => a - b);
      for (const t of tags) fn(this.take(t)!);
    }
    for (let t = Math.max(first, this.base); t < end; t++) {
      const item = this.take(t);
      if (item !== undefined) fn(item);
    }
  }

  /** Drops every entry delivered on subscription `owner` (it closed). */
  dropOwner(owner: S): void {
    for (const [t, e] of this.old) if (e.owner === owner) { this.old.delete(t); this.size--; }
    for (let i = this.head; i < this.items.length; i++) {
      if (this.owners[i] !== owner || this.items[i] === undefined) continue;
      this.items[i] = undefined;
      this.owners[i] = undefined;
      this.size--;
    }
    this.trim();
  }

  clear(): void {
    this.base = this.next;
    this.items = [];
    this.owners = [];
    this.head = 0;
    this.old.clear();
    this.size = 0;
  }

  private index(tag: number): number {
    if (!Number.isSafeInteger(tag) || tag < this.base || tag >= this.next) return -1;
    return this.head + (tag - this.base);
  }

  /** Moves the start past taken entries; compacts the arrays when the dead prefix dominates. */
  private trim(): void {
    const items = this.items;
    while (this.head < items.length && items[this.head] === undefined) { this.head++; this.base++; }
    if (this.head === items.length) { this.items = []; this.owners = []; this.head = 0; }
    else if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.owners = this.owners.slice(this.head);
      this.head = 0;
    }
  }

  private evictOlderHalf(): void {
    const stop = this.head + Math.floor((this.items.length - this.head) / 2);
    for (let i = this.head; i < stop; i++) {
      const item = this.items[i];
      if (item !== undefined) this.old.set(this.base + (i - this.head), { item, owner: this.owners[i]! });
    }
    this.base += stop - this.head;
    this.items = this.items.slice(stop);
    this.owners = this.owners.slice(stop);
    this.head = 0;
    this.trim();
  }
}
