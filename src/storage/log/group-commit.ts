// Group commit (DESIGN §3): every item queued during one tick is handed to ONE `write(group)`
// call; items queued while it runs form the next group, started when it finishes. Used by a
// partition's appends and by its offsets log.
export class GroupCommit<T> {
  private queue: T[] = [];
  private scheduled = false;
  private writing = false;
  private idleWaiters: (() => void)[] = [];

  /** `write` settles every item of its group itself and never throws. */
  constructor(private readonly write: (group: T[]) => Promise<void>) {}

  /** A group is being written right now. */
  get busy(): boolean { return this.writing; }

  push(item: T): void {
    this.queue.push(item);
    this.kick();
  }

  /** Resolves when every item queued so far is written. */
  idle(): Promise<void> {
    if (!this.writing && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    // nextTick runs after the current promise jobs: every item queued in this tick joins the group.
    process.nextTick(this.run);
  }

  private readonly run = async (): Promise<void> => {
    this.scheduled = false;
    this.writing = true;
    const group = this.queue;
    this.queue = [];
    try {
      await this.write(group);
    } finally {
      this.writing = false;
      if (this.queue.length > 0) this.kick();
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  };
}
