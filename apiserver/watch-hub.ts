import { gone } from './errors.ts';
import type { KubeObject } from './types.ts';

/** A change as recorded in the history: the object after (or, for DELETED, at) the change. */
export interface Change {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** storageKey of the type (group/resource). */
  key: string;
  resourceVersion: number;
  object: KubeObject;
  /** The object before a MODIFIED, so selector watches can turn it into ADDED/DELETED. */
  previous?: KubeObject;
}

/** What a watcher receives; BOOKMARK and ERROR are produced by the HTTP layer. */
export interface WatchListener {
  key: string;
  /** Namespace to watch, or undefined for all. */
  namespace: string | undefined;
  matches: (obj: KubeObject) => boolean;
  send: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void;
  /** Called by cutWatches(): the stream must end (clients then re-watch from their last version). */
  cut: () => void;
}

/**
 * The bounded change history and the live watchers. A watch from resourceVersion R replays
 * the kept changes after R; once R has fallen out of the history the watch gets 410 Gone,
 * which is what makes informers relist (the real server's watch cache behaves the same way).
 */
export class WatchHub {
  /** Kept changes are history[head..]; dropping advances head (Array.shift is O(n)). */
  private history: Change[] = [];
  private head = 0;
  private readonly listeners = new Set<WatchListener>();
  private readonly limit: number;
  /** Changes at or below this version are no longer in the history. */
  private compactedThrough = 0;

  constructor(historyLimit: number) {
    this.limit = historyLimit;
  }

  publish(change: Change): void {
    this.history.push(change);
    while (this.history.length - this.head > this.limit) {
      const dropped = this.history[this.head++];
      if (dropped) this.compactedThrough = dropped.resourceVersion;
    }
    this.trim();
    for (const listener of this.listeners) deliver(listener, change);
  }

  /**
   * Registers a watcher that first receives the kept changes after `fromVersion`.
   * Throws 410 Gone when changes after `fromVersion` were already dropped.
   */
  subscribe(listener: WatchListener, fromVersion: number): () => void {
    if (fromVersion < this.compactedThrough) {
      throw gone(`too old resource version: ${fromVersion} (${this.compactedThrough + 1})`);
    }
    for (let i = this.head; i < this.history.length; i++) {
      const change = this.history[i]!;
      if (change.resourceVersion > fromVersion) deliver(listener, change);
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets all history up to `throughVersion` (a fault hook: forces 410 on older watches). */
  compact(throughVersion: number): void {
    // Kept changes start at head: what the limit already dropped lies before it.
    while (this.head < this.history.length && this.history[this.head]!.resourceVersion <= throughVersion)
      this.head++;
    this.compactedThrough = Math.max(this.compactedThrough, throughVersion);
    this.trim();
  }

  /** Ends every open watch stream (a fault hook: like an apiserver or proxy dropping them). */
  cutAll(): void {
    for (const listener of [...this.listeners]) {
      this.listeners.delete(listener);
      listener.cut();
    }
  }

  /** Drops the consumed prefix once it is as long as the kept part (amortised O(1)). */
  private trim(): void {
    if (this.head > 1024 && this.head * 2 > this.history.length) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
  }

  /** The oldest version a list continuation or watch may still start from. */
  oldestKept(): number {
    return this.compactedThrough;
  }

  get watcherCount(): number {
    return this.listeners.size;
  }
}

/** Selector-aware delivery: an object that starts (stops) matching is ADDED (DELETED) for this watcher. */
function deliver(listener: WatchListener, change: Change): void {
  if (change.key !== listener.key) return;
  const ns = change.object.metadata.namespace;
  if (listener.namespace !== undefined && ns !== listener.namespace) return;
  const now = listener.matches(change.object);
  if (change.type !== 'MODIFIED') {
    if (now) listener.send(change.type, change.object);
    return;
  }
  const before = change.previous ? listener.matches(change.previous) : now;
  if (before && now) listener.send('MODIFIED', change.object);
  else if (!before && now) listener.send('ADDED', change.object);
  else if (before && !now) listener.send('DELETED', change.object);
}
