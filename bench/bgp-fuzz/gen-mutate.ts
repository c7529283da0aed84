/**
 * Blind mutations: a valid UPDATE, ROUTE-REFRESH or OPEN with octets of its body flipped,
 * overwritten, cut off, inserted or repeated, the header's length kept true. The generator does
 * not know what it broke, so the oracle accepts any verdict the RFCs allow for the message's
 * type in the state (kept, or an error of that type's code) and nothing else: a close without
 * NOTIFICATION (the session's reaction to an internal error), another type's error, no answer.
 * Header faults are badHeader's; an OPEN is mutated only where no OPEN is accepted, since an
 * accepted one would leave the fuzzer not knowing what was negotiated.
 */
import { framed, type GeneratedMessage } from './gen-open.ts';
import type { MessageFacts } from './oracle.ts';
import type { Random } from './random.ts';
import { concat, HEADER_LENGTH, MessageType } from './wire.ts';

/** The body, changed in 1 to 4 places. */
function mutate(rng: Random, body: Uint8Array): { body: Uint8Array; how: string[] } {
  let out: Uint8Array = body.slice();
  const how: string[] = [];
  for (let i = rng.int(1, 4); i > 0; i--) {
    const at = rng.int(0, Math.max(0, out.length - 1));
    switch (out.length === 0 ? 3 : rng.int(0, 4)) {
      case 0:
        out[at]! ^= 1 << rng.int(0, 7);
        how.push('bit');
        break;
      case 1:
        out[at] = rng.pick([0, 0xff, rng.int(0, 255)]);
        how.push('octet');
        break;
      case 2:
        out = out.slice(0, at);
        how.push('cut');
        break;
      case 3:
        out = concat([out.subarray(0, at), rng.bytes(rng.int(1, 8)), out.subarray(at)]);
        how.push('insert');
        break;
      default: {
        const end = Math.min(out.length, at + rng.int(1, 16));
        out = concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        how.push('repeat');
      }
    }
  }
  return { body: out, how };
}

/** The message reframed with its changed body; a ROUTE-REFRESH of 23 octets is still exact. */
function reframe(rng: Random, base: GeneratedMessage, type: number): GeneratedMessage {
  const changed = mutate(rng, base.bytes.subarray(HEADER_LENGTH));
  const { how } = changed;
  // The length field holds at most 65,535 (RFC 4271 §4.1).
  const body = changed.body.subarray(0, 0xffff - HEADER_LENGTH);
  const label = `${base.label.split(' ')[0]} mutated (${how.join('+')})`;
  let facts: MessageFacts = { kind: 'mutated', type };
  if (type === MessageType.RouteRefresh && body.length === 4) {
    // Its four octets are all there is: the fuzzer reads them as RFC 2918 §3 lays them out.
    facts = { kind: 'route-refresh', afi: (body[0]! << 8) | body[1]!, subtype: body[2]!, safi: body[3]! };
  }
  return framed(type, body, facts, label);
}

/** `base` (a valid UPDATE, ROUTE-REFRESH or OPEN) blindly mutated. */
export function mutated(rng: Random, base: GeneratedMessage): GeneratedMessage {
  return reframe(rng, base, base.header.type);
}
