import type { NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Got } from 'got';
import type { SignInNetwork } from '../../src/runtime/signin-from-config.js';

/**
 * HTTP for MSAL and the JWKS that trusts the simulator's certificate (Node reads
 * NODE_EXTRA_CA_CERTS only at start, too late for a test or script that makes its certificate).
 */
export function trustingNetwork(http: Got): SignInNetwork {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const response = await http(url, {
      method,
      headers: options?.headers,
      ...(options?.body === undefined ? {} : { body: options.body }),
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(response.headers)) headers[k] = String(v);
    return { headers, body: JSON.parse(response.body) as T, status: response.statusCode };
  };
  return {
    msal: {
      sendGetRequestAsync: (url, options) => send('GET', url, options),
      sendPostRequestAsync: (url, options) => send('POST', url, options),
    },
    fetchJson: async (url) => JSON.parse((await http(url)).body) as unknown,
  };
}
