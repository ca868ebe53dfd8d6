import { TokenError } from './token-error.js';

/**
 * `work`, or a transient TokenError `token_timeout` (with `message`) after `ms`. Only the wait
 * ends: `work` goes on, since other callers may share it, and its late outcome is ignored here.
 */
export async function withTokenTimeout<T>(work: Promise<T>, ms: number, message: string) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TokenError('token_timeout', message, { transient: true }));
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
