import { isGone, type KubeClient, type Query, type WatchEvent } from './client.ts';

/** The metadata every cached object has. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export type InformerVerb = 'add' | 'update' | 'delete';

/** Objects per list request (what kube's own informers ask for, too). */
export const LIST_PAGE = 500;

export interface InformerOptions<T> {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Reduces an object to what the program reads before it is cached, so a cache of thousands of
   * Services does not hold their managedFields and unrelated annotations.
   */
  readonly trim?: (object: T) => T;
  /** Server-side watch duration; randomised below this so informers do not reconnect together. */
  readonly watchSeconds?: number;
  readonly random?: () => number;
}

/**
 * List + watch of one collection into a cache (by namespace, then name), with add / update /
 * delete callbacks. The same contract as client-node's ListWatch, which it replaces: `start()`
 * lists and watches until stopped; a watch the server ends is resumed from the last
 * resourceVersion; 410 Gone (history compacted) relists and reports objects that vanished as
 * deleted; any other failure calls the `error` callbacks and stops, and the owner calls
 * `start()` again after its own back-off.
 */
export class Informer<T extends KubeObject> {
  readonly #client: KubeClient;
  readonly #path: string;
  readonly #options: InformerOptions<T>;
  /** namespace ('' for cluster-scoped) -> name -> object */
  #objects = new Map<string, Map<string, T>>();
  #resourceVersion = '';
  #listed = false;
  #stopped = true;
  #abort: AbortController | undefined;
  readonly #callbacks = {
    add: [] as ((object: T) => void)[],
    update: [] as ((object: T) => void)[],
    delete: [] as ((object: T) => void)[],
    error: [] as ((error: unknown) => void)[],
  };

  constructor(client: KubeClient, path: string, options: InformerOptions<T> = {}) {
    this.#client = client;
    this.#path = path;
    this.#options = options;
  }

  on(verb: InformerVerb, callback: (object: T) => void): void;
  on(verb: 'error', callback: (error: unknown) => void): void;
  on(verb: InformerVerb | 'error', callback: (value: never) => void): void {
    (this.#callbacks[verb] as ((value: never) => void)[]).push(callback);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#objects.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const byName of this.#objects.values()) all.push(...byName.values());
    return all;
  }

  latestResourceVersion(): string {
    return this.#resourceVersion;
  }

  /** A LIST has filled the cache at least once (until then the cache says nothing). */
  get hasSynced(): boolean {
    return this.#listed;
  }

  /**
   * Resolves once the first list is in the cache, or once it failed (the `error` callbacks have
   * then been told, and `hasSynced` is still false); the watch goes on in the background.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    try {
      if (!this.#resourceVersion) await this.#relist();
    } catch (error) {
      this.#fail(abort, error);
      return;
    }
    void this.#watchLoop(abort);
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
    this.#abort = undefined;
  }

  #selectors(): Query {
    return { labelSelector: this.#options.labelSelector, fieldSelector: this.#options.fieldSelector };
  }

  /**
   * Lists in pages of LIST_PAGE objects (one consistent snapshot: the pages share the first's
   * resourceVersion), trimming each page before the next arrives, so that a large list never
   * sits whole in memory as JSON and untrimmed objects.
   */
  async #relist(): Promise<void> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page = await this.#client.list<T>(this.#path, {
        ...this.#selectors(),
        limit: LIST_PAGE,
        continue: next,
      });
      for (const item of page.items) items.push(this.#trim(item));
      resourceVersion ??= page.metadata?.resourceVersion;
      next = page.metadata?.continue || undefined;
    } while (next);
    const fresh = new Set<string>();
    for (const item of items) fresh.add(`${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`);
    for (const [namespace, byName] of this.#objects) {
      for (const [name, object] of byName) {
        if (fresh.has(`${namespace}/${name}`)) continue;
        byName.delete(name);
        this.#emit('delete', object);
      }
      if (byName.size === 0) this.#objects.delete(namespace);
    }
    for (const item of items) this.#store(item);
    this.#resourceVersion = resourceVersion ?? '';
    this.#listed = true;
  }

  async #watchLoop(abort: AbortController): Promise<void> {
    const max = this.#options.watchSeconds ?? 600;
    const random = this.#options.random ?? Math.random;
    while (!this.#stopped && this.#abort === abort) {
      try {
        if (!this.#resourceVersion) await this.#relist();
        let gone = false;
        let events = 0;
        const opened = Date.now();
        await this.#client.watch<T>(
          this.#path,
          {
            ...this.#selectors(),
            resourceVersion: this.#resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: Math.ceil(max / 2 + (random() * max) / 2),
          },
          (event) => {
            if (this.#abort !== abort) return;
            events++;
            if (this.#apply(event) === 'gone') gone = true;
          },
          abort.signal,
        );
        if (gone) this.#resourceVersion = '';
        // A server that ends watches at once must not turn this loop into a busy one.
        if (events === 0 && Date.now() - opened < 1000) await pause(1000, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) return;
        if (isGone(error)) {
          this.#resourceVersion = '';
          continue;
        }
        this.#fail(abort, error);
        return;
      }
    }
  }

  #fail(abort: AbortController, error: unknown): void {
    if (this.#abort !== abort || this.#stopped) return;
    this.#abort = undefined;
    for (const callback of this.#callbacks.error) callback(error);
  }

  #apply(event: WatchEvent<T>): 'gone' | undefined {
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.#upsert(event.object);
        break;
      case 'DELETED':
        this.#remove(event.object);
        break;
      case 'ERROR':
        // A Status object: 410 means our resourceVersion is older than the server's history.
        return (event.object as { code?: number }).code === 410 ? 'gone' : undefined;
      case 'BOOKMARK':
        break;
    }
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    return undefined;
  }

  #trim(raw: T): T {
    return this.#options.trim ? this.#options.trim(raw) : raw;
  }

  #upsert(raw: T): void {
    this.#store(this.#trim(raw));
  }

  /** Puts a trimmed object in the cache; emits add or update unless it is unchanged. */
  #store(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    let byName = this.#objects.get(namespace);
    if (!byName) {
      byName = new Map();
      this.#objects.set(namespace, byName);
    }
    const found = byName.get(name);
    if (found && found.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    byName.set(name, object);
    this.#emit(found ? 'update' : 'add', object);
  }

  #remove(raw: T): void {
    const namespace = raw.metadata?.namespace ?? '';
    const byName = this.#objects.get(namespace);
    const found = byName?.get(raw.metadata?.name ?? '');
    if (!byName || !found) return;
    byName.delete(raw.metadata?.name ?? '');
    if (byName.size === 0) this.#objects.delete(namespace);
    this.#emit('delete', this.#trim(raw));
  }

  #emit(verb: InformerVerb, object: T): void {
    for (const callback of this.#callbacks[verb]) callback(object);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
