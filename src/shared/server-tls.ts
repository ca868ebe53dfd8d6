import { readFileSync } from 'node:fs';

/**
 * The PEM certificate and key a server listens with (`<section>.tlsCert/tlsKey`), or undefined
 * when neither is set. An unreadable file is an error naming the key and the path.
 */
export function readServerTls(
  settings: { readonly tlsCert: string | null; readonly tlsKey: string | null },
  section: 'dashboard' | 'api',
): { cert: string; key: string } | undefined {
  if (settings.tlsCert === null || settings.tlsKey === null) return undefined;
  const read = (key: 'tlsCert' | 'tlsKey', path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new Error(`${section}.${key}: cannot read ${path} (${code})`, { cause: error });
    }
  };
  return { cert: read('tlsCert', settings.tlsCert), key: read('tlsKey', settings.tlsKey) };
}
