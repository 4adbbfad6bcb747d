// The unacknowledged deliveries of one connection by tag (docs/protocol-binary.md "DELIVER").
// Tags are handed out in order, so the table is an array indexed from the oldest tag still
// held: no Map entry and no wrapper object per delivery (both lived as long as the delivery was
// unacked, so on a subscriber with thousands in flight they reached the old generation).
export class TagTable<D, S> {
  private items: (D | undefined)[] = [];
  private owners: (S | undefined)[] = [];
  /** Index in `items` of tag `base`. */
  private head = 0;
  private base = 0;
  /** Tag of the next add(). */
  next = 0;
  /** Entries held. */
  size = 0;

  /** Holds `item` (delivered on subscription `owner`) under the next tag; returns the tag. */
  add(item: D, owner: S): number {
    this.items.push(item);
    this.owners.push(owner);
    this.size++;
    return this.next++;
  }

  get(tag: number): D | undefined {
    const i = this.index(tag);
    return i < 0 ? undefined : this.items[i];
  }

  /** Removes and returns the entry of `tag` (undefined: never handed out, or taken already). */
  take(tag: number): D | undefined {
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
    for (let t = Math.max(first, this.base); t < end; t++) {
      const item = this.take(t);
      if (item !== undefined) fn(item);
    }
  }

  /** Drops every entry delivered on subscription `owner` (it closed). */
  dropOwner(owner: S): void {
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
}
