import { describe, expect, it } from 'vitest';
import { InvalidMachineIdError } from '../../../src/defender/errors.js';
import {
  buildMachineActionFilter,
  buildMachineFilter,
  odataDateTime,
  quoteODataString,
} from '../../../src/defender/odata.js';

const ID = '0123456789abcdef0123456789abcdef01234567';

describe('OData filters', () => {
  it('doubles single quotes inside string literals', () => {
    expect(quoteODataString("O'Brien's")).toBe("'O''Brien''s'");
    expect(quoteODataString("') or (1 eq 1")).toBe("''') or (1 eq 1'");
  });

  it('builds the filter the worker uses to find its own lost action', () => {
    expect(
      buildMachineActionFilter({
        machineId: ID.toUpperCase(),
        type: 'RunAntiVirusScan',
        createdSince: new Date('2026-11-01T00:00:00Z'),
      }),
    ).toBe(
      `machineId eq '${ID}' and type eq 'RunAntiVirusScan' and creationDateTimeUtc ge 2026-11-01T00:00:00.000Z`,
    );
  });

  it('groups several statuses with or', () => {
    expect(buildMachineActionFilter({ status: ['Pending', 'InProgress'] })).toBe(
      "(status eq 'Pending' or status eq 'InProgress')",
    );
  });

  it('returns undefined for an empty filter', () => {
    expect(buildMachineActionFilter({})).toBeUndefined();
    expect(buildMachineFilter({})).toBeUndefined();
  });

  it('refuses a hostile machine id in a filter', () => {
    expect(() => buildMachineActionFilter({ machineId: `${ID.slice(1)}'` })).toThrow(
      InvalidMachineIdError,
    );
  });

  it('refuses a date that is not one', () => {
    expect(() => odataDateTime('yesterday')).toThrow(RangeError);
  });

  it('builds machine filters with tags and groups', () => {
    expect(
      buildMachineFilter({
        healthStatus: 'Active',
        tag: "Bob's PCs",
        rbacGroupId: 42,
        osPlatform: ['Windows10', 'Windows11'],
      }),
    ).toBe(
      "healthStatus eq 'Active' and (osPlatform eq 'Windows10' or osPlatform eq 'Windows11') and machineTags/any(tag: tag eq 'Bob''s PCs') and rbacGroupId eq 42",
    );
  });
});
