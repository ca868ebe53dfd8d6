import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/defender/classify.js';

// One row per documented case in mde-api.md "Errors", plus the edges the client relies on.
const table = [
  [400, 'ActiveRequestAlreadyExists', 'later'],
  [400, 'InvalidRequestBody', 'never'],
  [400, 'MissingRequiredParameter', 'never'],
  [400, 'InvalidInput', 'never'],
  [400, 'BadRequest', 'never'],
  [400, 'ODataError', 'never'],
  [400, 'OsPlatformNotSupported', 'never'],
  [400, 'ClientVersionNotSupported', 'never'],
  [401, 'Unauthorized', 'reauth'],
  [403, 'Forbidden', 'never'],
  [403, 'DisabledFeature', 'never'],
  [403, 'DisallowedOperation', 'never'],
  [404, 'ResourceNotFound', 'never'],
  [404, 'NotFound', 'never'],
  [429, 'TooManyRequests', 'throttled'],
  [429, undefined, 'throttled'],
  [500, 'InternalServerError', 'backoff'],
  [502, 'BadGateway', 'backoff'],
  [503, 'ServiceUnavailable', 'backoff'],
  [504, undefined, 'backoff'],
  [0, 'ETIMEDOUT', 'backoff'],
  [0, 'ECONNRESET', 'backoff'],
  [400, 'SomethingNew', 'never'],
  [409, 'Conflict', 'never'],
  [418, undefined, 'never'],
  [400, 'activerequestalreadyexists', 'later'],
  [403, 'ActiveRequestAlreadyExists', 'never'],
] as const;

describe('classify', () => {
  it.each(table)('%i %s is %s', (status, code, expected) => {
    expect(classify(status, code)).toBe(expected);
  });
});
