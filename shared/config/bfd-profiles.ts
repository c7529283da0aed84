import type { BFDProfile, BGPPeer } from '../api/resources.ts';
import { configError, describeRef, type ObjectRef, refOf } from './errors.ts';
import { objectsOfShape } from './shapes.ts';
import type { BfdProfileConfig, ConfigError } from './types.ts';

/** field -> [minimum, maximum, default] as MetalLB documents them (RFC 5880 timers in ms). */
const LIMITS = {
  receiveInterval: [10, 60000, 300],
  transmitInterval: [10, 60000, 300],
  detectMultiplier: [2, 255, 3],
  echoInterval: [10, 60000, 50],
  minimumTtl: [1, 254, 254],
} as const;

/** A BFDProfile with every field at its default (MetalLB's: 300 ms / 300 ms / x3, active). */
export function defaultBfdProfile(name: string): BfdProfileConfig {
  return {
    name,
    receiveIntervalMs: LIMITS.receiveInterval[2],
    transmitIntervalMs: LIMITS.transmitInterval[2],
    detectMultiplier: LIMITS.detectMultiplier[2],
    echoIntervalMs: LIMITS.echoInterval[2],
    passiveMode: false,
    minimumTtl: LIMITS.minimumTtl[2],
  };
}

/** The range of a BFDProfile field: [minimum, maximum] (what `metalbeacon bgp --bfd-*` accept too). */
export function bfdProfileRange(field: keyof typeof LIMITS): readonly [number, number] {
  return [LIMITS[field][0], LIMITS[field][1]];
}

/**
 * Validates BFDProfiles and fills in the defaults. Sorted by name. `echoMode: true` is an error:
 * we run no echo function, and a profile that asks for one must not look as if it had it.
 */
export function buildBfdProfiles(
  objects: readonly BFDProfile[],
  namespace: string | undefined,
  errors: ConfigError[],
): BfdProfileConfig[] {
  const out: BfdProfileConfig[] = [];
  for (const { object, ref } of objectsOfShape('BFDProfile', objects, namespace, errors)) {
    const spec = object.spec ?? {};
    const before = errors.length;
    const value = (field: keyof typeof LIMITS): number => {
      const [min, max, fallback] = LIMITS[field];
      const v = spec[field];
      if (v === undefined) return fallback;
      if (!Number.isInteger(v) || v < min || v > max) {
        errors.push(
          configError(
            ref,
            `spec.${field}`,
            `${v} is out of range: expected a whole number from ${min} to ${max}`,
          ),
        );
      }
      return v;
    };
    if (spec.echoMode === true) {
      errors.push(
        configError(
          ref,
          'spec.echoMode',
          'echo mode is not supported: BFD runs in asynchronous mode (RFC 5880) without echo; remove echoMode or set it to false',
        ),
      );
    }
    const profile: BfdProfileConfig = {
      name: object.metadata.name,
      receiveIntervalMs: value('receiveInterval'),
      transmitIntervalMs: value('transmitInterval'),
      detectMultiplier: value('detectMultiplier'),
      echoIntervalMs: value('echoInterval'),
      passiveMode: spec.passiveMode ?? false,
      minimumTtl: value('minimumTtl'),
    };
    if (errors.length === before) out.push(profile);
  }
  return out;
}

/**
 * The errors that forbid deleting a BFDProfile: one per BGPPeer that still names it (MetalLB's
 * webhook refuses such deletes). Empty when the delete is fine.
 */
export function bfdProfileDeletionErrors(profile: ObjectRef, peers: readonly BGPPeer[]): ConfigError[] {
  return peers
    .filter(
      (p) =>
        p.spec?.bfdProfile === profile.name &&
        (profile.namespace === undefined ||
          p.metadata.namespace === undefined ||
          p.metadata.namespace === profile.namespace),
    )
    .map((p) =>
      configError(
        profile,
        'metadata.name',
        `still used by ${describeRef(refOf('BGPPeer', p.metadata))} (spec.bfdProfile); remove the reference before deleting the profile`,
      ),
    );
}
