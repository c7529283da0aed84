import type { Pool } from '../../shared/config/types.ts';
import { FAMILY_BITS, type IpFamily, type IpValue } from '../../shared/net/ip.ts';
import { familyPlans, orderByFamilies } from './families.ts';
import { IntervalSet } from './interval-set.ts';
import {
  comparePools,
  hasFamily,
  isBuggyIp,
  isPinned,
  poolRefusal,
  rangesContain,
  usableSize,
} from './pool-rules.ts';
import { ReleasedQueue } from './released-queue.ts';
import { type AddressLookup, requestRefusal } from './request-rules.ts';
import { sharingRefusal } from './sharing.ts';
import {
  type AllocationResult,
  type AllocatorOptions,
  type Assignment,
  type AssignOptions,
  type Holder,
  type PoolChange,
  type PoolCounts,
  type PoolState,
  type Refusal,
  RefusalReason,
  type ServiceFacts,
} from './types.ts';

/**
 * The IP allocator: pure state, no I/O, no clock. It holds which Service has which IPs from
 * which pool and hands out new ones.
 *
 * Address bookkeeping (per family) — every address is in exactly one place:
 * - `untouched`: an interval set of addresses never handed out since this allocator started
 *   (initially the whole address space, one fragment);
 * - `held`: a map address -> holder (the Services on it);
 * - a pool's `released` queue: addresses freed inside that pool, in release order;
 * - `evicted`: an interval set of addresses freed long ago (pushed out of a full released
 *   queue) or freed outside every pool.
 * A new address comes from, in order: the untouched part of the pool (lowest first), then
 * evicted addresses (lowest first), then the pool's released queue (oldest release first). So a
 * just-freed IP is the last one handed out again. Every step is O(log n) in the number of
 * fragments / held addresses; nothing enumerates a pool, and a /64 costs one fragment.
 *
 * This file keeps that bookkeeping; the rules it applies are beside it, each pure: what a pool
 * says (./pool-rules.ts), sharing an IP (./sharing.ts), dual stack (./families.ts), IPs given to
 * a Service (./request-rules.ts); the vocabulary is ./types.ts.
 */

export { isBuggyIp, poolRefusal } from './pool-rules.ts';
export {
  type AllocationResult,
  type AllocatorOptions,
  type Assignment,
  type AssignOptions,
  type FamilyPolicy,
  type PoolChange,
  type PoolCounts,
  type Refusal,
  RefusalReason,
  type ServiceFacts,
  type ServicePort,
} from './types.ts';

interface ServiceRecord {
  facts: ServiceFacts;
  pool: string;
  ips: IpValue[];
}

const FAMILIES: readonly IpFamily[] = ['IPv4', 'IPv6'];

function familyCounts(): Record<IpFamily, bigint> {
  return { IPv4: 0n, IPv6: 0n };
}

/** The allocator. Mutable, but deterministic and free of I/O; see the file comment. */
export class Allocator {
  readonly #historyLimit: number;
  #pools = new Map<string, PoolState>();
  readonly #services = new Map<string, ServiceRecord>();
  readonly #held: Record<IpFamily, Map<bigint, Holder>> = { IPv4: new Map(), IPv6: new Map() };
  /** sharing key -> holders carrying it */
  readonly #bySharingKey = new Map<string, Set<Holder>>();
  readonly #untouched: Record<IpFamily, IntervalSet>;
  readonly #evicted: Record<IpFamily, IntervalSet> = { IPv4: new IntervalSet(7), IPv6: new IntervalSet(11) };
  #sequence = 0;
  /** For the rules of request-rules.ts. */
  readonly #lookup: AddressLookup = {
    pool: (ip) => this.#poolContaining(ip.family, ip.value),
    holder: (ip) => this.#held[ip.family].get(ip.value),
  };

  constructor(pools: readonly Pool[] = [], options: AllocatorOptions = {}) {
    this.#historyLimit = options.releasedHistoryPerPool ?? 16384;
    this.#untouched = { IPv4: new IntervalSet(3), IPv6: new IntervalSet(5) };
    for (const family of FAMILIES) {
      this.#untouched[family].addRange(0n, (1n << BigInt(FAMILY_BITS[family])) - 1n);
    }
    this.setPools(pools);
  }

  /** The pools in force, by name. */
  get pools(): readonly Pool[] {
    return [...this.#pools.values()].map((state) => state.pool);
  }

  /** The Service's assignment, if it has one. O(1). */
  lookup(key: string): Assignment | undefined {
    const record = this.#services.get(key);
    return record ? { pool: record.pool, ips: [...record.ips] } : undefined;
  }

  /** Keys of the Services holding the address (empty when free). */
  holdersOf(ip: IpValue): string[] {
    const holder = this.#held[ip.family].get(ip.value);
    return holder ? [...holder.services.keys()] : [];
  }

  /** Every assignment (O(n); for status and diagnostics). */
  *assignments(): IterableIterator<[string, Assignment]> {
    for (const [key, record] of this.#services) yield [key, { pool: record.pool, ips: [...record.ips] }];
  }

  /** Number of Services holding an assignment. */
  get size(): number {
    return this.#services.size;
  }

  /** Exact assigned / available counts of a pool; undefined for an unknown pool. */
  counts(poolName: string): PoolCounts | undefined {
    const state = this.#pools.get(poolName);
    if (!state) return undefined;
    return {
      assigned: { ...state.assigned },
      available: {
        IPv4: state.usable.IPv4 - state.assignedUsable.IPv4,
        IPv6: state.usable.IPv6 - state.assignedUsable.IPv6,
      },
    };
  }

  /**
   * Replaces the pools. Assignments whose IPs are still inside some pool stay (moving to the
   * new pool name if it changed); the others are dropped. Released-address history follows
   * the addresses into their new pools. O(allocated + released history), never O(pool size).
   */
  setPools(pools: readonly Pool[]): PoolChange {
    const old = this.#pools;
    const next = new Map<string, PoolState>();
    for (const pool of pools) {
      next.set(pool.name, {
        pool,
        released: { IPv4: new ReleasedQueue(), IPv6: new ReleasedQueue() },
        usable: { IPv4: usableSize(pool, 'IPv4'), IPv6: usableSize(pool, 'IPv6') },
        assignedUsable: familyCounts(),
        assigned: familyCounts(),
      });
    }
    this.#pools = next;

    // Carry the released history over, in release order.
    const history: { family: IpFamily; value: bigint; sequence: number }[] = [];
    for (const state of old.values()) {
      for (const family of FAMILIES) {
        for (const [value, sequence] of state.released[family].entries())
          history.push({ family, value, sequence });
      }
    }
    history.sort((a, b) => a.sequence - b.sequence);
    for (const entry of history) {
      const state = this.#poolContaining(entry.family, entry.value);
      if (state && !(state.pool.avoidBuggyIPs && isBuggyIp(entry.family, entry.value))) {
        this.#pushReleased(state, entry.family, entry.value, entry.sequence);
      } else {
        this.#evicted[entry.family].add(entry.value);
      }
    }

    const dropped: string[] = [];
    const trimmed: string[] = [];
    const rehomed: string[] = [];
    for (const [key, record] of [...this.#services]) {
      const states = record.ips.map((ip) => this.#poolContaining(ip.family, ip.value));
      // Keep what is still inside the pool of the first surviving IP; free the rest.
      const home = states.find((state) => state !== undefined);
      if (!home) {
        this.release(key);
        dropped.push(key);
        continue;
      }
      if (states.some((state) => state !== home)) {
        const keep = record.ips.filter((_, i) => states[i] === home);
        for (const ip of record.ips) if (!keep.includes(ip)) this.#detach(key, ip);
        record.ips = keep;
        trimmed.push(key);
      }
      if (home.pool.name !== record.pool) {
        record.pool = home.pool.name;
        rehomed.push(key);
      }
    }
    // Recount from scratch: the drops above may have touched the new counters.
    for (const state of next.values()) {
      for (const family of FAMILIES) {
        state.assigned[family] = 0n;
        state.assignedUsable[family] = 0n;
      }
    }
    for (const family of FAMILIES) {
      for (const holder of this.#held[family].values()) {
        const state = this.#poolContaining(family, holder.value);
        if (!state) continue; // only reachable for holders being dropped above
        holder.pool = state.pool.name;
        this.#count(state, holder, 1n);
      }
    }
    return { dropped, trimmed, rehomed };
  }

  /**
   * Gives the Service exactly these IPs (a restore from status, or IPs it requested), after
   * checking every rule: families, pool membership and permissions, avoidBuggyIPs, sharing.
   * Replaces a different current assignment only when the new one is valid. Idempotent.
   */
  assign(facts: ServiceFacts, ips: readonly IpValue[], options: AssignOptions = {}): AllocationResult {
    const refusal = requestRefusal(facts, ips, options, this.#lookup);
    if (refusal) return { ok: false, refusals: [refusal] };
    const pool = this.#poolContaining(ips[0]!.family, ips[0]!.value)!;
    const previous = this.#services.get(facts.key);
    const ordered = orderByFamilies(ips, facts.families);
    if (previous) {
      for (const ip of previous.ips) {
        if (!ordered.some((x) => x.family === ip.family && x.value === ip.value)) this.#detach(facts.key, ip);
      }
    }
    for (const ip of ordered) this.#attach(facts, pool, ip);
    this.#services.set(facts.key, { facts, pool: pool.pool.name, ips: ordered });
    return { ok: true, assignment: { pool: pool.pool.name, ips: [...ordered] } };
  }

  /**
   * Picks IPs for a Service that has none: from its `address-pool`, else from every
   * auto-assign pool it may use, by priority then name. Returns the current assignment
   * unchanged when it has one (idempotent; use {@link assign} to re-validate it).
   */
  allocate(facts: ServiceFacts): AllocationResult {
    const current = this.lookup(facts.key);
    if (current) return { ok: true, assignment: current };
    const refusals: Refusal[] = [];
    const note = (refusal: Refusal): void => {
      if (!refusals.some((r) => r.pool === refusal.pool && r.reason === refusal.reason))
        refusals.push(refusal);
    };

    let states: PoolState[];
    if (facts.pool !== undefined) {
      const state = this.#pools.get(facts.pool);
      if (!state) {
        return fail({
          pool: facts.pool,
          reason: RefusalReason.PoolNotFound,
          message: `address pool ${facts.pool} (annotation metalbeacon.io/address-pool) does not exist`,
        });
      }
      states = [state];
    } else {
      states = [...this.#pools.values()];
      if (states.length === 0) {
        return fail({
          pool: undefined,
          reason: RefusalReason.NoPools,
          message: 'no IPAddressPool is configured',
        });
      }
    }

    const candidates: PoolState[] = [];
    for (const state of states) {
      const refused = poolRefusal(state.pool, facts);
      if (refused) note(refused);
      else if (facts.pool === undefined && !state.pool.autoAssign) {
        note({
          pool: state.pool.name,
          reason: RefusalReason.AutoAssignOff,
          message: 'autoAssign is false: only Services naming the pool or requesting its IPs get its IPs',
        });
      } else candidates.push(state);
    }
    candidates.sort((a, b) => comparePools(a.pool, b.pool, isPinned));

    for (const plan of familyPlans(facts)) {
      if (plan.length === 0) {
        note({
          pool: undefined,
          reason: RefusalReason.FamilyMissing,
          message: `ipFamilyPolicy RequireDualStack needs two ipFamilies, the Service has [${facts.families.join(', ')}]`,
        });
        continue;
      }
      for (const state of candidates) {
        const missing = plan.filter((family) => !hasFamily(state.pool, family));
        if (missing.length > 0) {
          note({
            pool: state.pool.name,
            reason: RefusalReason.FamilyMissing,
            message: `the pool has no ${missing.join(' or ')} addresses`,
          });
          continue;
        }
        const picked: IpValue[] = [];
        for (const family of plan) {
          const value = this.#pick(state, family, facts);
          if (value === undefined) {
            note({
              pool: state.pool.name,
              reason: RefusalReason.Exhausted,
              message: `no free ${family} address (${state.usable[family]} usable, all assigned or not shareable)`,
            });
            break;
          }
          picked.push({ family, value });
        }
        if (picked.length === plan.length) return this.assign(facts, picked);
      }
    }
    return { ok: false, refusals };
  }

  /**
   * Adds the Service's missing family from the pool it already uses (PreferDualStack or
   * RequireDualStack Services that got one family first).
   */
  allocateAdditional(facts: ServiceFacts, family: IpFamily): AllocationResult {
    const record = this.#services.get(facts.key);
    if (!record) {
      return fail({
        pool: undefined,
        reason: RefusalReason.NotAssigned,
        message: 'the Service has no IP yet',
      });
    }
    if (record.ips.some((ip) => ip.family === family))
      return { ok: true, assignment: this.lookup(facts.key)! };
    const state = this.#pools.get(record.pool)!;
    if (!hasFamily(state.pool, family)) {
      return fail({
        pool: record.pool,
        reason: RefusalReason.FamilyMissing,
        message: `the pool has no ${family} addresses`,
      });
    }
    const value = this.#pick(state, family, facts);
    if (value === undefined) {
      return fail({
        pool: record.pool,
        reason: RefusalReason.Exhausted,
        message: `no free ${family} address (${state.usable[family]} usable, all assigned or not shareable)`,
      });
    }
    return this.assign(facts, [...record.ips, { family, value }]);
  }

  /** Frees the Service's IPs (an IP shared with others stays with them). Idempotent. */
  release(key: string): void {
    const record = this.#services.get(key);
    if (!record) return;
    for (const ip of record.ips) this.#detach(key, ip);
    this.#services.delete(key);
  }

  /** A free (or compatibly shareable) address of the family in the pool, without taking it. */
  #pick(state: PoolState, family: IpFamily, facts: ServiceFacts): bigint | undefined {
    if (facts.sharingKey !== undefined) {
      for (const holder of this.#bySharingKey.get(facts.sharingKey) ?? []) {
        if (holder.pool === state.pool.name && holder.family === family && !sharingRefusal(holder, facts)) {
          return holder.value;
        }
      }
    }
    const avoid = state.pool.avoidBuggyIPs && family === 'IPv4';
    for (const set of [this.#untouched[family], this.#evicted[family]]) {
      for (const range of state.pool.ranges) {
        if (range.family !== family) continue;
        let cursor = range.first;
        while (cursor <= range.last) {
          const hit = set.firstAtOrAfter(cursor);
          if (!hit || hit.value > range.last) break;
          let candidate = hit.value;
          if (avoid) {
            const low = candidate & 255n;
            if (low === 0n) candidate += 1n;
            else if (low === 255n) candidate += 2n;
          }
          if (candidate <= hit.fragmentEnd && candidate <= range.last) return candidate;
          cursor = candidate;
        }
      }
    }
    for (const value of state.released[family].values()) {
      if (!(state.pool.avoidBuggyIPs && isBuggyIp(family, value))) return value;
    }
    return undefined;
  }

  #attach(facts: ServiceFacts, state: PoolState, ip: IpValue): void {
    const held = this.#held[ip.family];
    let holder = held.get(ip.value);
    if (!holder) {
      // Take the address from wherever it is: exactly one of these holds it.
      if (!this.#untouched[ip.family].remove(ip.value) && !this.#evicted[ip.family].remove(ip.value)) {
        state.released[ip.family].delete(ip.value);
      }
      holder = {
        family: ip.family,
        value: ip.value,
        pool: state.pool.name,
        sharingKey: facts.sharingKey,
        backendKey: facts.backendKey,
        services: new Map(),
      };
      held.set(ip.value, holder);
      this.#index(holder);
      this.#count(state, holder, 1n);
    } else if (holder.services.size === 0 || (holder.services.size === 1 && holder.services.has(facts.key))) {
      // A sole user may change its sharing and backend keys in place.
      this.#unindex(holder);
      holder.sharingKey = facts.sharingKey;
      holder.backendKey = facts.backendKey;
      this.#index(holder);
    }
    holder.services.set(facts.key, facts.ports);
  }

  #detach(key: string, ip: IpValue): void {
    const held = this.#held[ip.family];
    const holder = held.get(ip.value);
    if (!holder) return;
    holder.services.delete(key);
    if (holder.services.size > 0) return;
    held.delete(ip.value);
    this.#unindex(holder);
    const state = this.#poolContaining(ip.family, ip.value);
    if (state) {
      this.#count(state, holder, -1n);
      this.#pushReleased(state, ip.family, ip.value, this.#sequence++);
    } else {
      this.#evicted[ip.family].add(ip.value);
    }
  }

  #pushReleased(state: PoolState, family: IpFamily, value: bigint, sequence: number): void {
    const queue = state.released[family];
    queue.push(value, sequence);
    while (queue.size > this.#historyLimit) {
      const oldest = queue.shift();
      if (oldest === undefined) break;
      this.#evicted[family].add(oldest);
    }
  }

  #count(state: PoolState, holder: Holder, delta: bigint): void {
    state.assigned[holder.family] += delta;
    if (!(state.pool.avoidBuggyIPs && isBuggyIp(holder.family, holder.value))) {
      state.assignedUsable[holder.family] += delta;
    }
  }

  #index(holder: Holder): void {
    if (holder.sharingKey === undefined) return;
    let set = this.#bySharingKey.get(holder.sharingKey);
    if (!set) {
      set = new Set();
      this.#bySharingKey.set(holder.sharingKey, set);
    }
    set.add(holder);
  }

  #unindex(holder: Holder): void {
    if (holder.sharingKey === undefined) return;
    const set = this.#bySharingKey.get(holder.sharingKey);
    set?.delete(holder);
    if (set?.size === 0) this.#bySharingKey.delete(holder.sharingKey);
  }

  #poolContaining(family: IpFamily, value: bigint): PoolState | undefined {
    for (const state of this.#pools.values()) {
      if (rangesContain(state.pool.ranges, family, value)) return state;
    }
    return undefined;
  }
}

function fail(refusal: Refusal): AllocationResult {
  return { ok: false, refusals: [refusal] };
}
