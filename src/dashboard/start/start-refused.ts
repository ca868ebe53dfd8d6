/** A start or preview that cannot go ahead, with the HTTP status and the sentence to show. */
export class StartRefused extends Error {
  override name = 'StartRefused';
  readonly status: number;
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}
