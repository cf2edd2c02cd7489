/**
 * A Bull Board action fanout does not carry out, because it would lose or forge deliveries;
 * Bull Board answers it with this status and message.
 */
export class OperatorRefusal extends Error {
  override readonly name = 'OperatorRefusal';
  readonly statusCode: number;

  constructor(message: string, statusCode = 409) {
    super(message);
    this.statusCode = statusCode;
  }
}
