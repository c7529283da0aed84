/**
 * Thrown by planNode for input the shell never builds (duplicate Service keys or Node names):
 * the plan would otherwise depend on input order. The message names the object.
 */
export class PlanInputError extends Error {
  readonly field: 'services' | 'nodes';
  constructor(field: 'services' | 'nodes', message: string) {
    super(message);
    this.name = 'PlanInputError';
    this.field = field;
  }
}
