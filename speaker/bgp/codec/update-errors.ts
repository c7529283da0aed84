import { UpdateSubcode } from './constants.ts';
import { type BgpMessageError, type ErrorAction, updateError } from './errors.ts';

/**
 * The errors of one UPDATE (RFC 7606): a session reset is thrown at once, the others are kept
 * for the session to count and log. Repeated attributes are counted and reported once per type
 * code, so the cost of an UPDATE does not grow with how often a peer repeats an attribute: at
 * most one error per attribute type about its first occurrence, one per type about repeats,
 * and one about missing attributes.
 */
export class UpdateErrors {
  private readonly kept: BgpMessageError[] = [];
  /** type code → [name, action, repeats] of attributes seen more than once. */
  private readonly repeats = new Map<number, { name: string; action: ErrorAction; count: number }>();

  /** Records an error; a session reset ends decoding (thrown). */
  add(error: BgpMessageError): void {
    if (error.action === 'session-reset') throw error;
    this.kept.push(error);
  }

  /** An attribute seen again: `action` is what RFC 7606 §3 g says about this type. */
  repeated(typeCode: number, name: string, action: ErrorAction): void {
    if (action === 'session-reset') {
      throw updateError(
        UpdateSubcode.MalformedAttributeList,
        `UPDATE: ${name} appears more than once`,
        action,
        {
          attribute: typeCode,
        },
      );
    }
    const entry = this.repeats.get(typeCode);
    if (entry) entry.count++;
    else this.repeats.set(typeCode, { name, action, count: 1 });
  }

  /** The errors the UPDATE had, repeats summed per attribute; undefined when none. */
  finish(): BgpMessageError[] | undefined {
    for (const [typeCode, { name, action, count }] of this.repeats) {
      const times = count === 1 ? 'once more' : `${count} more times`;
      this.kept.push(
        updateError(UpdateSubcode.MalformedAttributeList, `UPDATE: ${name} appears ${times}`, action, {
          attribute: typeCode,
          occurrences: count,
        }),
      );
    }
    return this.kept.length > 0 ? this.kept : undefined;
  }
}

/** The attribute being decoded: what its errors name and carry. */
export interface AttributeSite {
  readonly typeCode: number;
  readonly name: string;
  /** RFC 7606 action when this attribute is malformed. */
  readonly action: ErrorAction;
  /** Flags, type, length and value as received: the Data of most UPDATE NOTIFICATIONs (RFC 4271 §6.3). */
  readonly whole: Uint8Array;
}

/** Reports errors about one attribute into the UPDATE's errors. */
export class AttributeErrors {
  readonly site: AttributeSite;
  private readonly sink: UpdateErrors;

  constructor(sink: UpdateErrors, site: AttributeSite) {
    this.sink = sink;
    this.site = site;
  }

  /**
   * Records an error about this attribute, with its action unless told otherwise and the whole
   * attribute as data unless `withData` is false. Returns undefined, so a decoder can return it
   * to leave the attribute out.
   */
  report(
    subcode: number,
    message: string,
    options: { action?: ErrorAction; withData?: boolean } = {},
  ): undefined {
    this.sink.add(
      updateError(subcode, `UPDATE: ${this.site.name}: ${message}`, options.action ?? this.site.action, {
        attribute: this.site.typeCode,
        ...(options.withData === false ? {} : { data: this.site.whole.slice() }),
      }),
    );
    return undefined;
  }

  /** Attribute Length Error (RFC 4271 §6.3), with the attribute's action. */
  length(actual: number, expected: string): undefined {
    return this.report(UpdateSubcode.AttributeLengthError, `length ${actual}, expected ${expected}`);
  }
}
