import { join } from 'node:path';
import { createConfig, lint } from '@redocly/openapi-core';
import { Contract } from '../src/http/contract.js';
import { ROOT } from './support.js';

describe('openapi.yaml', () => {
  test('passes the Redocly linter (recommended rules) without errors', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lint({ ref: join(ROOT, 'openapi.yaml'), config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(errors).toEqual([]);
  });

  test('every operation has an id the contract compiles, and every path is routed', () => {
    const contract = new Contract(join(ROOT, 'openapi.yaml'));
    const routes = contract.routes();
    expect(routes.length).toBeGreaterThan(10);
    expect(new Set(routes.map((r) => r.operationId)).size).toBe(routes.length);
  });
});
