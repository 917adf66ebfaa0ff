import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository } from '#control/audit';
import { DashboardRepository } from '#control/dashboards';
import { DatasetRepository } from '#control/datasets';
import { EmbedRepository } from '#control/embeds';
import { RedemptionRepository } from '#control/redemptions';
import { RevocationRepository } from '#control/revocations';
import { RlsRepository } from '#control/rls';
import { SessionRepository } from '#control/sessions';
import { TenantRepository } from '#control/tenants';
import { saveDashboard } from '#admin/dashboards';
import { createDataset, putRlsMapping, putRlsRules } from '#admin/datasets';
import { validateEmbed } from '#admin/embeds';
import type { TableGateway } from '#control/table-gateway';
import { createTestTables, type TestTables } from '../datasets/fixtures.ts';

let tables: TestTables;
let control: TableGateway;
const NOW = Date.parse('2030-01-01T00:00:00Z');
const clock = () => NOW;

beforeAll(async () => {
  tables = await createTestTables('control');
  control = tables.control;
});

describe('tenants', () => {
  it('creates, refuses duplicates and lists through the index', async () => {
    const tenants = new TenantRepository(control, { clock });
    await tenants.create({ tenantId: 'acme', name: 'Acme' });
    await expect(tenants.create({ tenantId: 'acme', name: 'Again' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(tenants.create({ tenantId: 'ACME#x', name: 'Bad' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await tenants.get('acme')).toEqual({
      tenantId: 'acme',
      name: 'Acme',
      createdAt: '2030-01-01T00:00:00.000Z',
    });
    expect((await tenants.list()).map((t) => t.tenantId)).toContain('acme');
  });
});

describe('datasets', () => {
  it('validates schemas and refuses internal or malformed column names', async () => {
    const datasets = new DatasetRepository(control, { clock });
    const columns = (name: string) => ({ columns: [{ name, type: 'string' }], partitionColumn: name });
    for (const name of ['pk', 'sk', 'gsi1pk', 'ttl', 'Region', 'a b', 'region OR size(a)=size(a)', '#x']) {
      await expect(
        createDataset({ datasets }, { tenantId: 'acme', datasetId: 'bad', name: 'Bad', schema: columns(name) }),
      ).rejects.toMatchObject({
        code: 'DATASET_SCHEMA_INVALID',
      });
    }
    const created = await createDataset(
      { datasets },
      {
        tenantId: 'acme',
        datasetId: 'orders',
        name: 'Orders',
        schema: {
          columns: [
            { name: 'region', type: 'string' },
            { name: 'at', type: 'date' },
          ],
          partitionColumn: 'region',
          sortColumn: 'at',
        },
      },
    );
    expect(created.schema.columns).toEqual([
      { name: 'region', type: 'string', required: true },
      { name: 'at', type: 'date', required: true },
    ]);
    expect(await datasets.require('acme', 'orders')).toMatchObject({ activeVersion: null, rowCount: 0 });
    await expect(datasets.require('other', 'orders')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('dashboards', () => {
  it('validates widgets against the dataset schema and the declared parameters at save time', async () => {
    const dashboards = new DashboardRepository(control, { clock });
    const datasets = new DatasetRepository(control);
    const save = (widgets: unknown[], parameters = [{ name: 'range', type: 'dateRange' as const }]) =>
      saveDashboard(
        { dashboards, datasets },
        { tenantId: 'acme', dashboardId: 'main', title: 'Main', parameters, widgets },
      );
    const widget = (query: unknown, type = 'table') => ({ id: 'w1', type, title: 'W', datasetId: 'orders', query });
    await expect(save([widget({ filters: [{ column: 'nope', op: 'eq', value: 'x' }] })])).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      details: { column: 'nope' },
    });
    await expect(
      save([widget({ filters: [{ column: 'region', op: 'between', value: { param: 'missing' } }] })]),
    ).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      details: { param: 'missing' },
    });
    await expect(save([widget({ metrics: [{ op: 'sum', column: 'region' }] })])).rejects.toMatchObject({
      code: 'QUERY_INVALID',
    });
    await expect(save([widget({}, 'number')])).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    await expect(save([{ ...widget({}), datasetId: 'ghost' }])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { sources, ...saved } = await save([
      widget({ filters: [{ column: 'at', op: 'between', value: { param: 'range' } }] }),
    ]);
    // The stored dashboard is what was saved; the per-widget source report is only in the answer.
    expect(await dashboards.get('acme', 'main')).toEqual(saved);
    expect(Object.keys(sources)).toEqual(saved.widgets.map((w) => w.id));
  });
});

describe('embeds', () => {
  it('validates origins, modes and the lifetime cap', async () => {
    const embeds = new EmbedRepository(control, { clock });
    const base = {
      tenantId: 'acme',
      embedId: 'e1',
      resource: { type: 'dashboard' as const, id: 'main' },
      parameterModes: { range: 'editable' as const, region: 'locked' as const },
      allowedOrigins: ['https://app.example.com'],
      maxTokenLifetimeSeconds: 300,
      enabled: true,
    };
    expect(() => validateEmbed({ ...base, maxTokenLifetimeSeconds: 601 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => validateEmbed({ ...base, allowedOrigins: ['https://app.example.com/path'] })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => validateEmbed({ ...base, allowedOrigins: ['http://evil.example.com'] })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    await embeds.save(validateEmbed(base));
    await embeds.setEnabled('acme', 'e1', false);
    expect(await embeds.get('acme', 'e1')).toMatchObject({
      enabled: false,
      parameterModes: { range: 'editable', region: 'locked' },
    });
    await expect(embeds.setEnabled('acme', 'ghost', false)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('RLS rules and mappings', () => {
  it('stores rules validated against the schema and reads mappings in one batch', async () => {
    const rls = new RlsRepository(control, { clock });
    const datasets = new DatasetRepository(control);
    await expect(
      putRlsRules({ datasets, rls }, 'acme', 'orders', [
        { column: 'secret', source: { kind: 'identity', claim: 'sub' } },
      ]),
    ).rejects.toMatchObject({
      code: 'DATASET_SCHEMA_INVALID',
    });
    await expect(
      putRlsRules({ datasets, rls }, 'acme', 'orders', [
        { column: 'region', source: { kind: 'identity', claim: 'email' } },
      ]),
    ).rejects.toMatchObject({
      code: 'DATASET_SCHEMA_INVALID',
    });
    await putRlsRules({ datasets, rls }, 'acme', 'orders', [
      { column: 'region', source: { kind: 'mapping', mappingId: 'm1' } },
    ]);
    await putRlsMapping({ rls }, 'acme', {
      id: 'm1',
      entries: [{ principalType: 'user', principal: 'alice', values: ['EU', 'US'] }],
    });
    await putRlsMapping({ rls }, 'acme', {
      id: 'm2',
      entries: [{ principalType: 'group', principal: 'analysts', values: '*' }],
    });
    expect(await rls.getRules('acme', 'orders')).toEqual([
      { column: 'region', source: { kind: 'mapping', mappingId: 'm1' } },
    ]);
    expect(await rls.getRules('acme', 'none')).toBeUndefined();
    const mappings = await rls.getMappings('acme', ['m1', 'm2', 'm3']);
    expect([...mappings.keys()].sort()).toEqual(['m1', 'm2']);
    expect((await rls.getMappings('other', ['m1'])).size).toBe(0);
  });
});

describe('revocations', () => {
  it('checks token, user and embed revocations in one batch read', async () => {
    const revocations = new RevocationRepository(control, { clock });
    const token = { tenantId: 'acme', jti: 'jti-1', sub: 'user-1', eid: 'e1', iat: NOW / 1000 - 60 };
    expect(await revocations.isRevoked(token)).toEqual({ revoked: false });
    await revocations.revokeToken({ tenantId: 'acme', jti: 'jti-1', exp: NOW / 1000 + 300, by: 'admin' });
    expect(await revocations.isRevoked(token)).toEqual({ revoked: true, scope: 'token' });
    await revocations.revokeUser({ tenantId: 'acme', sub: 'user-2', by: 'admin' });
    expect(await revocations.isRevoked({ ...token, jti: 'jti-2', sub: 'user-2' })).toEqual({
      revoked: true,
      scope: 'user',
    });
    // Issued after the user revocation: valid again.
    expect(await revocations.isRevoked({ ...token, jti: 'jti-3', sub: 'user-2', iat: NOW / 1000 + 1 })).toEqual({
      revoked: false,
    });
    await revocations.revokeEmbed({ tenantId: 'acme', embedId: 'e9', by: 'admin' });
    expect(await revocations.isRevoked({ ...token, jti: 'jti-4', eid: 'e9' })).toEqual({
      revoked: true,
      scope: 'embed',
    });
    // Another tenant's revocations do not apply (and do not leak).
    expect(await revocations.isRevoked({ ...token, tenantId: 'other' })).toEqual({ revoked: false });
  });
});

describe('redemptions', () => {
  it('redeems a token id once, with the token expiry as TTL', async () => {
    const redemptions = new RedemptionRepository(control, { clock });
    await redemptions.redeemOnce('jti-r', 'acme', NOW / 1000 + 300);
    await expect(redemptions.redeemOnce('jti-r', 'acme', NOW / 1000 + 300)).rejects.toMatchObject({
      code: 'EMBED_TOKEN_ALREADY_REDEEMED',
    });
    const item = await tables.client.send(
      new GetCommand({ TableName: control.tableName, Key: { pk: 'REDEEMED#jti-r', sk: 'REDEEMED' } }),
    );
    expect(item.Item?.ttl).toBe(NOW / 1000 + 300);
  });
});

describe('sessions', () => {
  it('creates, reads only for its owner, renews and stores editable state', async () => {
    let now = NOW;
    const sessions = new SessionRepository(control, { clock: () => now });
    const owner = { tenantId: 'acme', sub: 'user-1', embedId: 'e1' };
    const session = await sessions.create({
      ...owner,
      jti: 'jti-s1',
      tokenIssuedAt: NOW / 1000,
      lockedParams: { region: 'EU' },
      editableParams: {},
      expiresAt: NOW + 300_000,
    });
    expect(session.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await sessions.get(session.sessionId, owner)).toMatchObject({ lockedParams: { region: 'EU' } });
    await expect(sessions.get(session.sessionId, { ...owner, sub: 'user-2' })).rejects.toMatchObject({
      code: 'EMBED_SESSION_INVALID',
    });
    await expect(sessions.get(session.sessionId, { ...owner, tenantId: 'other' })).rejects.toMatchObject({
      code: 'EMBED_SESSION_INVALID',
    });
    await sessions.updateEditableParams(session.sessionId, owner, { range: { from: '2024-01-01', to: '2024-01-31' } });
    const renewal = { tokenIssuedAt: NOW / 1000 + 60, lockedParams: { region: 'US' }, expiresAt: NOW + 600_000 };
    const renewed = await sessions.renew(session.sessionId, owner, { ...renewal, jti: 'jti-s2' });
    expect(renewed).toMatchObject({
      jti: 'jti-s2',
      tokenIssuedAt: NOW / 1000 + 60,
      expiresAt: NOW + 600_000,
      lockedParams: { region: 'US' },
      editableParams: { range: { from: '2024-01-01', to: '2024-01-31' } },
    });
    await expect(
      sessions.renew(session.sessionId, { ...owner, embedId: 'e2' }, { ...renewal, jti: 'jti-s3' }),
    ).rejects.toMatchObject({
      code: 'EMBED_SESSION_INVALID',
    });
    now = NOW + 700_000;
    await expect(sessions.get(session.sessionId, owner)).rejects.toMatchObject({ code: 'EMBED_SESSION_INVALID' });
  });
});

describe('audit', () => {
  it('appends with a TTL, lists newest first with an opaque cursor, and refuses free text', async () => {
    const audit = new AuditRepository(control, { clock });
    for (let i = 0; i < 5; i++) {
      await audit.append({
        tenantId: 'acme',
        sub: 'user-1',
        action: 'embed-session.create',
        embedId: 'e1',
        outcome: i % 2 ? 'denied' : 'allowed',
        reason: i % 2 ? 'EMBED_TOKEN_EXPIRED' : 'OK',
        at: new Date(NOW + i * 1000).toISOString(),
      });
    }
    await expect(
      audit.append({
        tenantId: 'acme',
        sub: 'user-1',
        action: 'x',
        outcome: 'allowed',
        reason: 'eyJhbGciOiJFUzI1NiJ9.e30.sig',
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const first = await audit.list('acme', { limit: 3 });
    expect(first.events.map((e) => e.at)).toEqual([
      '2030-01-01T00:00:04.000Z',
      '2030-01-01T00:00:03.000Z',
      '2030-01-01T00:00:02.000Z',
    ]);
    const second = await audit.list('acme', { limit: 3, cursor: first.cursor! });
    expect(second.events.map((e) => e.at)).toEqual(['2030-01-01T00:00:01.000Z', '2030-01-01T00:00:00.000Z']);
    // A cursor from one tenant cannot page through another's partition.
    await expect(audit.list('other', { cursor: first.cursor! })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
