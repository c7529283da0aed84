import { addressBytes, formatIpv4 } from './address.ts';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { u32 } from './bytes.ts';
import { CapabilityCode, ErrorCode, OpenSubcode, OptionalParameterType } from './constants.ts';
import { BgpEncodeError, BgpMessageError } from './errors.ts';
import type { Capability, GracefulRestartFamily, OpenMessage } from './types.ts';

/** The only BGP version there is (RFC 4271 §4.2). */
export const BGP_VERSION = 4;

function openError(subcode: number, message: string, data?: Uint8Array): BgpMessageError {
  return new BgpMessageError(ErrorCode.OpenMessage, subcode, `OPEN: ${message}`, data ? { data } : {});
}

/** Encodes one capability as code, length, value (RFC 5492 §4). */
function encodeCapability(capability: Capability, out: ByteWriter): void {
  switch (capability.kind) {
    case 'multiprotocol':
      out.u8(CapabilityCode.Multiprotocol).u8(4).u16(capability.afi).u8(0).u8(capability.safi);
      return;
    case 'route-refresh':
      out.u8(CapabilityCode.RouteRefresh).u8(0);
      return;
    case 'four-octet-as':
      out.u8(CapabilityCode.FourOctetAs).u8(4).u32(capability.asn);
      return;
    case 'graceful-restart': {
      if (capability.restartTimeSec < 0 || capability.restartTimeSec > 4095) {
        throw new BgpEncodeError(`graceful restart time ${capability.restartTimeSec} s is outside 0..4095`);
      }
      out.u8(CapabilityCode.GracefulRestart).u8(2 + 4 * capability.families.length);
      // RFC 4724 §3: 4 flag bits (R, N) then 12 bits of restart time.
      const flags = (capability.restartState ? 0x8 : 0) | (capability.notification ? 0x4 : 0);
      out.u16((flags << 12) | capability.restartTimeSec);
      for (const family of capability.families) {
        out
          .u16(family.afi)
          .u8(family.safi)
          .u8(family.forwardingState ? 0x80 : 0);
      }
      return;
    }
    case 'extended-message':
      out.u8(CapabilityCode.ExtendedMessage).u8(0);
      return;
    case 'unknown':
      if (capability.value.length > 255)
        throw new BgpEncodeError(`capability ${capability.code} is too long`);
      out.u8(capability.code).u8(capability.value.length).bytes(capability.value);
      return;
  }
}

/** Encodes an OPEN body (after the header). All capabilities go in one optional parameter. */
export function encodeOpenBody(message: OpenMessage): Uint8Array {
  const caps = new ByteWriter(64);
  for (const capability of message.capabilities) encodeCapability(capability, caps);
  const capBytes = caps.finish();
  const out = new ByteWriter(32 + capBytes.length);
  out.u8(message.version).u16(message.myAs).u16(message.holdTimeSec);
  out.bytes(addressBytes(message.bgpId, 'IPv4', 'OPEN BGP Identifier'));
  if (capBytes.length === 0) {
    out.u8(0);
  } else if (capBytes.length + 2 <= 255) {
    out
      .u8(capBytes.length + 2)
      .u8(OptionalParameterType.Capabilities)
      .u8(capBytes.length)
      .bytes(capBytes);
  } else {
    // RFC 9072 §2: extended optional parameters length.
    out
      .u8(255)
      .u8(255)
      .u16(capBytes.length + 3);
    out.u8(OptionalParameterType.Capabilities).u16(capBytes.length).bytes(capBytes);
  }
  return out.finish();
}

/** Decodes the capabilities of one optional parameter (RFC 5492 §4) into `into`. */
function decodeCapabilities(parameter: ByteReader, into: Capability[]): void {
  while (parameter.remaining > 0) {
    if (parameter.remaining < 2) throw openError(0, 'capability header runs past its optional parameter');
    const code = parameter.u8();
    const length = parameter.u8();
    if (parameter.remaining < length)
      throw openError(0, `capability ${code} length ${length} runs past its parameter`);
    const value = parameter.sub(length);
    const bad = (expected: string): BgpMessageError =>
      openError(0, `capability ${code} has length ${length}, expected ${expected}`);
    switch (code) {
      case CapabilityCode.Multiprotocol: {
        if (length !== 4) throw bad('4');
        const afi = value.u16();
        value.u8(); // Reserved (RFC 4760 §8)
        into.push({ kind: 'multiprotocol', afi, safi: value.u8() });
        break;
      }
      case CapabilityCode.RouteRefresh:
        if (length !== 0) throw bad('0');
        into.push({ kind: 'route-refresh' });
        break;
      case CapabilityCode.FourOctetAs:
        if (length !== 4) throw bad('4');
        into.push({ kind: 'four-octet-as', asn: value.u32() });
        break;
      case CapabilityCode.ExtendedMessage:
        if (length !== 0) throw bad('0');
        into.push({ kind: 'extended-message' });
        break;
      case CapabilityCode.GracefulRestart: {
        if (length < 2 || (length - 2) % 4 !== 0) throw bad('2 + 4n');
        const word = value.u16();
        const families: GracefulRestartFamily[] = [];
        while (value.remaining > 0) {
          const afi = value.u16();
          const safi = value.u8();
          families.push({ afi, safi, forwardingState: (value.u8() & 0x80) !== 0 });
        }
        into.push({
          kind: 'graceful-restart',
          restartState: (word & 0x8000) !== 0,
          notification: (word & 0x4000) !== 0,
          restartTimeSec: word & 0x0fff,
          families,
        });
        break;
      }
      default:
        into.push({ kind: 'unknown', code, value: value.rest().slice() });
    }
  }
}

/**
 * Decodes an OPEN body (RFC 4271 §6.2 checks that need no configuration: version, hold time
 * 1 or 2, zero identifier, unknown optional parameters). The peer AS and hold time policy are
 * negotiation's business.
 */
export function decodeOpenBody(body: Uint8Array): OpenMessage {
  const reader = new ByteReader(body);
  if (reader.remaining < 10) throw openError(0, `body of ${body.length} octets is shorter than 10`);
  const version = reader.u8();
  if (version !== BGP_VERSION) {
    // RFC 4271 §6.2: data is the largest supported version, as 2 octets.
    throw openError(OpenSubcode.UnsupportedVersionNumber, `version ${version} is not 4`, Uint8Array.of(0, 4));
  }
  const myAs = reader.u16();
  const holdTimeSec = reader.u16();
  if (holdTimeSec === 1 || holdTimeSec === 2) {
    throw openError(OpenSubcode.UnacceptableHoldTime, `hold time ${holdTimeSec} s (must be 0 or at least 3)`);
  }
  const bgpIdBytes = reader.bytes(4);
  if (u32(bgpIdBytes, 0) === 0) throw openError(OpenSubcode.BadBgpIdentifier, 'BGP Identifier is 0.0.0.0');
  const bgpId = formatIpv4(bgpIdBytes);
  let paramsLength = reader.u8();
  // RFC 9072 §2: 255 then type 255 announce the extended (2-octet) parameter lengths.
  const extended = paramsLength === 255 && reader.remaining > 0 && reader.peekU8() === 255;
  if (extended) {
    if (reader.remaining < 3) throw openError(0, 'extended optional parameters length is cut off');
    reader.u8();
    paramsLength = reader.u16();
  }
  if (reader.remaining !== paramsLength) {
    throw openError(0, `optional parameters length ${paramsLength} does not match the message length`);
  }
  const capabilities: Capability[] = [];
  while (reader.remaining > 0) {
    if (reader.remaining < (extended ? 3 : 2))
      throw openError(0, 'optional parameter header runs past the parameters');
    const type = reader.u8();
    const length = extended ? reader.u16() : reader.u8();
    if (reader.remaining < length) throw openError(0, `optional parameter ${type} runs past the parameters`);
    if (type !== OptionalParameterType.Capabilities) {
      throw openError(
        OpenSubcode.UnsupportedOptionalParameter,
        `optional parameter type ${type} is not supported`,
      );
    }
    decodeCapabilities(reader.sub(length), capabilities);
  }
  return { type: 'open', version, myAs, holdTimeSec, bgpId, capabilities };
}
