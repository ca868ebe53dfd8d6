/**
 * Getting a token failed. `code` is Entra's or MSAL's error code (`invalid_client`,
 * `network_error`…) or ours (`certificate_invalid`, `static_token`); `transient` says whether
 * trying again later may help. Messages never carry secrets.
 */
export class TokenError extends Error {
  override name = 'TokenError';
  readonly code: string;
  readonly transient: boolean;
  constructor(code: string, message: string, options?: ErrorOptions & { transient?: boolean }) {
    super(message, options);
    this.code = code;
    this.transient = options?.transient ?? false;
  }
}
