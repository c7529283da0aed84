import type { UserInfo } from './rbac.ts';

/**
 * The bearer tokens this server issued (one per ServiceAccount mount or kubeconfig) and the
 * ones it revoked: what a TokenReview would answer. Randomness is injected; the table is pure.
 * A revoked token is kept (bounded: only the last REVOKED_KEPT) so a refusal can say that it
 * was revoked rather than never issued.
 */
export type TokenReview =
  | { readonly authenticated: true; readonly user: UserInfo }
  | { readonly authenticated: false; readonly reason: 'unknown' | 'revoked' };

const REVOKED_KEPT = 1024;

export class TokenTable {
  readonly #live = new Map<string, UserInfo>();
  readonly #revoked = new Map<string, UserInfo>();
  readonly #newToken: () => string;

  constructor(newToken: () => string) {
    this.#newToken = newToken;
  }

  /** A new token authenticating as `user`. */
  issue(user: UserInfo): string {
    const token = this.#newToken();
    this.#live.set(token, user);
    return token;
  }

  /** From now on `token` is refused; returns whether it was live. */
  revoke(token: string): boolean {
    const user = this.#live.get(token);
    if (!user) return false;
    this.#live.delete(token);
    this.#revoked.set(token, user);
    if (this.#revoked.size > REVOKED_KEPT) this.#revoked.delete(this.#revoked.keys().next().value!);
    return true;
  }

  /** A new token for the user of `token` (which is revoked at once, as after a forced rotation). */
  rotate(token: string): string {
    const user = this.#live.get(token);
    if (!user) throw new Error('rotate: the token is not live');
    const next = this.issue(user);
    this.revoke(token);
    return next;
  }

  review(token: string): TokenReview {
    const user = this.#live.get(token);
    if (user) return { authenticated: true, user };
    return { authenticated: false, reason: this.#revoked.has(token) ? 'revoked' : 'unknown' };
  }
}
