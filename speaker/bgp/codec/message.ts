import { u16, u16Bytes } from './bytes.ts';
import {
  CeaseSubcode,
  ErrorCode,
  HeaderSubcode,
  Limits,
  MessageType,
  RouteRefreshSubcode,
} from './constants.ts';
import { BgpEncodeError, BgpMessageError } from './errors.ts';
import { decodeOpenBody, encodeOpenBody } from './open.ts';
import type {
  BgpMessage,
  CodecContext,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
} from './types.ts';
import { DEFAULT_CONTEXT } from './types.ts';
import { decodeUpdateBody, encodeUpdateBody } from './update.ts';

/** Largest message the session may carry (RFC 8654 §4 raises it from 4,096 to 65,535). */
export function maxMessageLength(context: CodecContext): number {
  return context.extendedMessage ? Limits.ExtendedMaxMessageLength : Limits.MaxMessageLength;
}

const TYPE_CODE = {
  open: MessageType.Open,
  update: MessageType.Update,
  notification: MessageType.Notification,
  keepalive: MessageType.Keepalive,
  'route-refresh': MessageType.RouteRefresh,
} as const;

/** Prefixes a body with the 19-octet header: all-ones marker, length, type (RFC 4271 §4.1). */
export function frameMessage(
  type: number,
  body: Uint8Array,
  maxLength: number = Limits.ExtendedMaxMessageLength,
): Uint8Array {
  const length = Limits.HeaderLength + body.length;
  if (length > maxLength) {
    throw new BgpEncodeError(
      `message of type ${type} is ${length} octets, more than the ${maxLength} allowed`,
    );
  }
  const out = new Uint8Array(length);
  out.fill(0xff, 0, Limits.MarkerLength);
  out[16] = length >>> 8;
  out[17] = length & 0xff;
  out[18] = type;
  out.set(body, Limits.HeaderLength);
  return out;
}

/**
 * Encodes a NOTIFICATION body. The data is cut to what fits the session's largest message:
 * data that copies a peer's message (RFC 7313 §5: the whole ROUTE-REFRESH) can be as long as
 * the message, and an error report must never fail for being too long.
 */
function encodeNotificationBody(message: NotificationMessage, maxLength: number): Uint8Array {
  const room = maxLength - Limits.MinNotificationLength;
  const data = message.data.length > room ? message.data.subarray(0, room) : message.data;
  const out = new Uint8Array(2 + data.length);
  out[0] = message.code;
  out[1] = message.subcode;
  out.set(data, 2);
  return out;
}

function encodeRouteRefreshBody(message: RouteRefreshMessage): Uint8Array {
  return Uint8Array.of(message.afi >>> 8, message.afi & 0xff, message.subtype, message.safi);
}

/** Encodes OPEN (RFC 4271 §4.2). */
export function encodeOpen(message: OpenMessage): Uint8Array {
  return frameMessage(MessageType.Open, encodeOpenBody(message), Limits.MaxMessageLength);
}

/** Encodes UPDATE (RFC 4271 §4.3); the context decides AS width and the size limit. */
export function encodeUpdate(message: UpdateMessage, context: CodecContext): Uint8Array {
  return frameMessage(MessageType.Update, encodeUpdateBody(message, context), maxMessageLength(context));
}

/**
 * Encodes NOTIFICATION (RFC 4271 §4.5) for a session with this context (4,096 octets at most
 * unless RFC 8654 extended messages were negotiated); never throws.
 */
export function encodeNotification(
  message: NotificationMessage,
  context: CodecContext = DEFAULT_CONTEXT,
): Uint8Array {
  const maxLength = maxMessageLength(context);
  return frameMessage(MessageType.Notification, encodeNotificationBody(message, maxLength), maxLength);
}

/** Encodes KEEPALIVE (RFC 4271 §4.4): the header alone. */
export function encodeKeepalive(): Uint8Array {
  return frameMessage(MessageType.Keepalive, new Uint8Array(0));
}

/** Encodes ROUTE-REFRESH (RFC 2918 §3). */
export function encodeRouteRefresh(message: RouteRefreshMessage): Uint8Array {
  return frameMessage(MessageType.RouteRefresh, encodeRouteRefreshBody(message));
}

/** Encodes any message. */
export function encodeMessage(message: BgpMessage, context: CodecContext = DEFAULT_CONTEXT): Uint8Array {
  switch (message.type) {
    case 'open':
      return encodeOpen(message);
    case 'update':
      return encodeUpdate(message, context);
    case 'notification':
      return encodeNotification(message, context);
    case 'keepalive':
      return encodeKeepalive();
    case 'route-refresh':
      return encodeRouteRefresh(message);
  }
}

function badLength(length: number, why: string): BgpMessageError {
  // RFC 4271 §6.1: the Data field is the erroneous Length field.
  return new BgpMessageError(
    ErrorCode.MessageHeader,
    HeaderSubcode.BadMessageLength,
    `header: length ${length} ${why}`,
    {
      data: u16Bytes(length),
    },
  );
}

/**
 * Checks a message header (RFC 4271 §6.1) and returns the message length. `bytes` must hold at
 * least the 19 header octets.
 */
export function checkHeader(bytes: Uint8Array, offset: number, maxLength: number): number {
  for (let i = 0; i < Limits.MarkerLength; i++) {
    if (bytes[offset + i] !== 0xff) {
      throw new BgpMessageError(
        ErrorCode.MessageHeader,
        HeaderSubcode.ConnectionNotSynchronized,
        'header: marker is not all ones',
      );
    }
  }
  const length = u16(bytes, offset + 16);
  const type = bytes[offset + 18]!;
  if (length < Limits.HeaderLength) throw badLength(length, 'is shorter than the header');
  if (length > maxLength) throw badLength(length, `exceeds the maximum of ${maxLength}`);
  const minimum: Record<number, number> = {
    [MessageType.Open]: Limits.MinOpenLength,
    [MessageType.Update]: Limits.MinUpdateLength,
    [MessageType.Notification]: Limits.MinNotificationLength,
    [MessageType.Keepalive]: Limits.KeepaliveLength,
    [MessageType.RouteRefresh]: Limits.HeaderLength,
  };
  const min = minimum[type];
  if (min === undefined) {
    throw new BgpMessageError(
      ErrorCode.MessageHeader,
      HeaderSubcode.BadMessageType,
      `header: message type ${type} is unknown`,
      {
        data: Uint8Array.of(type),
      },
    );
  }
  if (length < min) throw badLength(length, `is too short for message type ${type}`);
  // RFC 8654 §4: extended messages are for every type but OPEN and KEEPALIVE.
  if (type === MessageType.Open && length > Limits.MaxMessageLength) {
    throw badLength(length, `exceeds ${Limits.MaxMessageLength}, the most an OPEN may have (RFC 8654 §4)`);
  }
  if (type === MessageType.Keepalive && length !== Limits.KeepaliveLength) {
    throw badLength(length, 'is not 19 for a KEEPALIVE');
  }
  return length;
}

/**
 * Decodes one whole message (header included). Throws BgpMessageError with the NOTIFICATION
 * to send when the message is malformed.
 */
export function decodeMessage(bytes: Uint8Array, context: CodecContext = DEFAULT_CONTEXT): BgpMessage {
  if (bytes.length < Limits.HeaderLength) throw badLength(bytes.length, 'is shorter than the header');
  const length = checkHeader(bytes, 0, maxMessageLength(context));
  if (length !== bytes.length) throw badLength(length, `does not match the ${bytes.length} octets given`);
  const body = bytes.subarray(Limits.HeaderLength);
  switch (bytes[18]) {
    case MessageType.Open:
      return decodeOpenBody(body);
    case MessageType.Update:
      return decodeUpdateBody(body, context);
    case MessageType.Notification:
      return { type: 'notification', code: body[0]!, subcode: body[1]!, data: body.slice(2) };
    case MessageType.Keepalive:
      return { type: 'keepalive' };
    default: {
      // ROUTE-REFRESH; RFC 7313 §5: a wrong length is its own error, with the whole message.
      if (body.length !== 4) {
        throw new BgpMessageError(
          ErrorCode.RouteRefreshMessage,
          RouteRefreshSubcode.InvalidMessageLength,
          `ROUTE-REFRESH: length ${length} is not 23`,
          { data: bytes.slice() },
        );
      }
      return { type: 'route-refresh', afi: u16(body, 0), subtype: body[2]!, safi: body[3]! };
    }
  }
}

/** Type name of a wire message type code (for metrics and logs). */
export function messageTypeName(message: BgpMessage): string {
  return message.type;
}

/** Numeric type of a message (RFC 4271 §4.1). */
export function messageTypeCode(message: BgpMessage): number {
  return TYPE_CODE[message.type];
}

// ---------------------------------------------------------------------------------------------
// RFC 9003: shutdown communication in Cease / Administrative Shutdown and Reset.

/** Longest shutdown communication in octets (RFC 9003 §2). */
export const MAX_SHUTDOWN_MESSAGE_BYTES = 255;

/**
 * A Cease NOTIFICATION with an RFC 9003 shutdown communication. The text is cut at a UTF-8
 * character boundary to 255 octets.
 */
export function shutdownNotification(subcode: number, text: string): NotificationMessage {
  let utf8 = new TextEncoder().encode(text);
  if (utf8.length > MAX_SHUTDOWN_MESSAGE_BYTES) {
    let cut = MAX_SHUTDOWN_MESSAGE_BYTES;
    while (cut > 0 && (utf8[cut]! & 0xc0) === 0x80) cut--;
    utf8 = utf8.subarray(0, cut);
  }
  const data = new Uint8Array(1 + utf8.length);
  data[0] = utf8.length;
  data.set(utf8, 1);
  return { type: 'notification', code: ErrorCode.Cease, subcode, data };
}

/**
 * The shutdown communication of a Cease Administrative Shutdown / Reset NOTIFICATION (RFC 9003
 * §2), or undefined when absent, not such a NOTIFICATION, or malformed (length or UTF-8).
 */
export function shutdownMessage(message: NotificationMessage): string | undefined {
  if (message.code !== ErrorCode.Cease) return undefined;
  if (
    message.subcode !== CeaseSubcode.AdministrativeShutdown &&
    message.subcode !== CeaseSubcode.AdministrativeReset
  ) {
    return undefined;
  }
  const length = message.data[0];
  if (length === undefined || length === 0 || message.data.length < 1 + length) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(message.data.subarray(1, 1 + length));
  } catch {
    return undefined;
  }
}

/** A NOTIFICATION (RFC 4271 §4.5) with the code, subcode and data given. */
export function notification(
  code: number,
  subcode: number,
  data: Uint8Array = new Uint8Array(0),
): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/** NOTIFICATION for a decode error (what the session sends before closing). */
export function notificationFor(error: BgpMessageError): NotificationMessage {
  return { type: 'notification', code: error.code, subcode: error.subcode, data: error.data };
}
