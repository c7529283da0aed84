/**
 * Thrown by the pure rules of this folder for input no caller should pass; `field` names the
 * part of the input, the message the value and what is wrong.
 */
export class InputError<Field extends string> extends Error {
  readonly field: Field;
  constructor(field: Field, message: string) {
    super(message);
    this.field = field;
  }
}

/**
 * Thrown by planNode for input the shell never builds (duplicate Service keys or Node names):
 * the plan would otherwise depend on input order. The message names the object.
 */
export class PlanInputError extends InputError<'services' | 'nodes'> {
  override readonly name = 'PlanInputError';
}
