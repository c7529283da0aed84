import type { SecretLike } from '../../shared/api/resources.ts';
import { apiStatus, isNotFound, type KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { trimPasswordSecret } from './trim.ts';

/**
 * The BGPPeers' password Secrets, read one by one by name. The speaker may not list or watch
 * Secrets (a compromised speaker would otherwise hold every Secret of its namespace, and with
 * `create` it could mint a token for the controller's ServiceAccount), and its Role may limit
 * `get` to the names it lists (resourceNames). Without a watch, a changed password is seen
 * when a BGPPeer changes (every referenced Secret is read again) and at each periodic refresh.
 * Only the password is kept: nothing else of a Secret stays in memory.
 */
export interface PeerSecretsOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly log: Logger;
  /** Called after a refresh found a Secret changed, appeared, vanished or became (un)readable. */
  readonly onChange: () => void;
}

type Entry =
  | { readonly kind: 'found'; readonly secret: SecretLike }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly why: string };

/** Why a Secret the API refused to show cannot be used; the fix is in the speaker's Role. */
export const FORBIDDEN_WHY =
  "the speaker's Role does not allow it (403 Forbidden): add the name to the Role's resourceNames (Helm: speaker.bgpPasswordSecrets; kustomize: see deploy/README.md)";

export class PeerSecrets {
  readonly #o: PeerSecretsOptions;
  /** Secret name -> what its last read found; only referenced names are kept. */
  #entries = new Map<string, Entry>();
  #referenced = new Set<string>();
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: PeerSecretsOptions) {
    this.#o = options;
  }

  /** The Secrets read, for the configuration. */
  secrets(): SecretLike[] {
    const out: SecretLike[] = [];
    for (const entry of this.#entries.values()) if (entry.kind === 'found') out.push(entry.secret);
    return out;
  }

  /** Secret name -> why it could not be read. */
  unreadable(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, entry] of this.#entries) if (entry.kind === 'unreadable') out.set(name, entry.why);
    return out;
  }

  /**
   * Reads every referenced Secret (the names the BGPPeers reference now) and forgets the
   * others. Calls made while one runs are coalesced into one more run; resolves when the
   * last requested run is done.
   */
  async refresh(referenced: ReadonlySet<string> = this.#referenced): Promise<void> {
    this.#referenced = new Set(referenced);
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#readAll();
      } while (this.#again);
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #readAll(): Promise<void> {
    const names = [...this.#referenced];
    const next = new Map<string, Entry>();
    for (const name of names) next.set(name, await this.#read(name, this.#entries.get(name)));
    let changed = next.size !== this.#entries.size;
    for (const [name, entry] of next) {
      if (JSON.stringify(entry) !== JSON.stringify(this.#entries.get(name))) changed = true;
    }
    this.#entries = next;
    if (changed) this.#o.onChange();
  }

  async #read(name: string, previous: Entry | undefined): Promise<Entry> {
    const { client, namespace } = this.#o;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
    try {
      return { kind: 'found', secret: trimPasswordSecret(await client.get<SecretLike>(path), namespace) };
    } catch (error) {
      if (isNotFound(error)) return { kind: 'missing' };
      if (apiStatus(error) === 403) return { kind: 'unreadable', why: FORBIDDEN_WHY };
      // The API server is away or failing: keep what we knew; the next refresh tries again.
      this.#o.log.warn({ secret: name, err: String(error) }, 'could not read a BGP password Secret');
      return previous ?? { kind: 'unreadable', why: `reading it failed: ${String(error)}` };
    }
  }
}
