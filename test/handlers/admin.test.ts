import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, users } from './harness.ts';

let api: Harness;

beforeAll(async () => {
  api = await startHarness();
});
afterAll(async () => {
  await api?.close();
});

const admin = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  resource: string,
  options: {
    identity?: (typeof users)[keyof typeof users];
    body?: unknown;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
  } = {},
) => api.call('admin', { method, resource, identity: options.identity ?? users.admin, ...options });

const schema = {
  columns: [
    { name: 'day', type: 'date' },
    { name: 'team', type: 'string' },
    { name: 'score', type: 'number' },
  ],
  partitionColumn: 'team',
  sortColumn: 'day',
};

describe('admin API', () => {
  it('refuses callers outside tenant-admins', async () => {
    const response = await admin('GET', '/v1/admin/datasets', { identity: users.signer });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('TENANT_ADMIN_REQUIRED');
  });

  it("creates a dataset, imports rows, sets RLS rules, a dashboard and an embed — all in the caller's tenant", async () => {
    const created = await admin('POST', '/v1/admin/datasets', {
      body: { datasetId: 'scores', name: 'Scores', schema },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenantId: 'acme', datasetId: 'scores', activeVersion: null });

    const imported = await admin('POST', '/v1/admin/datasets/{datasetId}/imports', {
      pathParameters: { datasetId: 'scores' },
      body: { format: 'csv', content: 'day,team,score\n2025-01-01,red,3\n2025-01-02,blue,4\n' },
    });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ rowCount: 2, partitions: 2 });

    const rules = await admin('PUT', '/v1/admin/datasets/{datasetId}/rls-rules', {
      pathParameters: { datasetId: 'scores' },
      body: { rules: [{ column: 'team', source: { kind: 'mapping', mappingId: 'teams' } }] },
    });
    expect(rules.status).toBe(200);
    const mapping = await admin('PUT', '/v1/admin/rls-mappings/{mappingId}', {
      pathParameters: { mappingId: 'teams' },
      body: {
        entries: [
          { principalType: 'user', principal: users.alice.sub, values: ['red'] },
          { principalType: 'group', principal: 'analysts', values: '*' },
        ],
      },
    });
    expect(mapping.status).toBe(200);
    expect(
      (await admin('GET', '/v1/admin/rls-mappings/{mappingId}', { pathParameters: { mappingId: 'teams' } })).body,
    ).toMatchObject({
      id: 'teams',
    });

    const dashboard = await admin('POST', '/v1/admin/dashboards', {
      body: {
        dashboardId: 'scores-board',
        title: 'Scores',
        widgets: [
          {
            id: 'total',
            type: 'number',
            title: 'Total',
            datasetId: 'scores',
            query: { metrics: [{ op: 'sum', column: 'score' }] },
          },
        ],
      },
    });
    expect(dashboard.status).toBe(201);
    const duplicate = await admin('POST', '/v1/admin/dashboards', {
      body: { dashboardId: 'scores-board', title: 'Again', widgets: [] },
    });
    expect(duplicate.status).toBe(409);

    const embed = await admin('POST', '/v1/admin/embeds', {
      body: {
        embedId: 'scores-embed',
        resource: { type: 'dashboard', id: 'scores-board' },
        allowedOrigins: ['https://app.example.com'],
      },
    });
    expect(embed.status).toBe(201);
    expect(embed.body).toMatchObject({ enabled: true, maxTokenLifetimeSeconds: 300, parameterModes: {} });

    // Alice, mapped to "red", sees only red's score through the whole path.
    const token = (
      await api.call('embed-tokens', {
        method: 'POST',
        resource: '/v1/embed-tokens',
        identity: users.alice,
        body: { embedId: 'scores-embed' },
      })
    ).body.token;
    const session = await api.call('embed-sessions', {
      method: 'POST',
      resource: '/v1/embed/sessions',
      identity: users.alice,
      body: { token },
    });
    const data = await api.call('embed-query', {
      method: 'POST',
      resource: '/v1/embed/query',
      identity: users.alice,
      body: { sessionId: session.body.sessionId, embedId: 'scores-embed' },
    });
    expect((data.body.widgets as Record<string, { rows: unknown[] }>).total?.rows).toEqual([{ sum_score: 3 }]);
  });

  it("never lets the admin of tenant A read or change tenant B's resources", async () => {
    const read = await admin('GET', '/v1/admin/datasets/{datasetId}', {
      identity: users.globexAdmin,
      pathParameters: { datasetId: 'scores' },
    });
    expect(read.status).toBe(404);
    const importInto = await admin('POST', '/v1/admin/datasets/{datasetId}/imports', {
      identity: users.globexAdmin,
      pathParameters: { datasetId: 'scores' },
      body: { format: 'csv', content: 'day,team,score\n2025-01-01,red,99\n' },
    });
    expect(importInto.status).toBe(404);
    const embed = await admin('PATCH', '/v1/admin/embeds/{embedId}', {
      identity: users.globexAdmin,
      pathParameters: { embedId: 'scores-embed' },
      body: { enabled: false },
    });
    expect(embed.status).toBe(404);
    // Globex's own "sales" dataset is untouched by acme's admin and vice versa.
    const list = await admin('GET', '/v1/admin/datasets', { identity: users.globexAdmin });
    expect((list.body.datasets as { datasetId: string }[]).map((d) => d.datasetId)).toEqual(['sales']);
  });

  it('reports every bad row of an import and writes nothing', async () => {
    const response = await admin('POST', '/v1/admin/datasets/{datasetId}/imports', {
      pathParameters: { datasetId: 'sales' },
      body: {
        format: 'csv',
        content: 'date,region,product,revenue,units\n2025-13-01,EU,widget,1,1\n2025-01-01,,widget,x,1\n',
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('IMPORT_ROWS_INVALID');
    expect((response.body.details as { errors: { line: number; column: string }[] }).errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 2, column: 'date' }),
        expect.objectContaining({ line: 3, column: 'region' }),
        expect.objectContaining({ line: 3, column: 'revenue' }),
      ]),
    );
    const dataset = await admin('GET', '/v1/admin/datasets/{datasetId}', { pathParameters: { datasetId: 'sales' } });
    expect(dataset.body.rowCount).toBe(6);
  });

  it('refuses rotating the signing key right after onboarding (live tokens need the overlap)', async () => {
    const response = await admin('POST', '/v1/admin/signing-keys/rotate');
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('ROTATION_TOO_SOON');
  });

  it('pages the audit log newest first with an opaque cursor', async () => {
    const first = await admin('GET', '/v1/admin/audit', { query: { limit: '2' } });
    expect(first.status).toBe(200);
    expect((first.body.events as unknown[]).length).toBe(2);
    const second = await admin('GET', '/v1/admin/audit', {
      query: { limit: '2', cursor: first.body.cursor as string },
    });
    const firstPage = first.body.events as { at: string }[];
    const secondPage = second.body.events as { at: string }[];
    expect(secondPage[0]!.at <= firstPage[1]!.at).toBe(true);
    const bad = await admin('GET', '/v1/admin/audit', { query: { limit: '0' } });
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'query.limit' } });
  });

  it.each([
    ['POST', '/v1/admin/datasets', {}, {}, 'datasetId'],
    [
      'POST',
      '/v1/admin/datasets',
      { datasetId: 'x', name: 'X', schema: { ...schema, partitionColumn: 'Team Name' } },
      {},
      'schema.partitionColumn',
    ],
    [
      'POST',
      '/v1/admin/datasets/{datasetId}/imports',
      { format: 'xml', content: 'a' },
      { datasetId: 'sales' },
      'format',
    ],
    [
      'PUT',
      '/v1/admin/datasets/{datasetId}/rls-rules',
      { rules: [{ column: 'region', source: { kind: 'query-string' } }] },
      { datasetId: 'sales' },
      'rules.0.source.kind',
    ],
    [
      'PUT',
      '/v1/admin/rls-mappings/{mappingId}',
      { entries: [{ principalType: 'robot', principal: 'x', values: [] }] },
      { mappingId: 'm' },
      'entries.0.principalType',
    ],
    ['POST', '/v1/admin/dashboards', { dashboardId: 'd', title: '', widgets: [] }, {}, 'title'],
    [
      'PUT',
      '/v1/admin/dashboards/{dashboardId}',
      { title: 'T', widgets: [{ id: 'w' }] },
      { dashboardId: 'overview' },
      'widgets.0.type',
    ],
    [
      'POST',
      '/v1/admin/embeds',
      { embedId: 'e', resource: { type: 'dashboard', id: 'overview' }, allowedOrigins: 'https://x' },
      {},
      'allowedOrigins',
    ],
    ['PATCH', '/v1/admin/embeds/{embedId}', {}, { embedId: 'sales-embed' }, 'body'],
    [
      'PATCH',
      '/v1/admin/embeds/{embedId}',
      { maxTokenLifetimeSeconds: 601 },
      { embedId: 'sales-embed' },
      'maxTokenLifetimeSeconds',
    ],
    ['POST', '/v1/admin/revocations', { scope: 'everything' }, {}, 'scope'],
    ['GET', '/v1/admin/datasets/{datasetId}', undefined, { datasetId: 'bad id!' }, 'path.datasetId'],
  ] as const)('%s %s answers 400 naming %s', async (method, resource, body, pathParameters, field) => {
    const response = await admin(method, resource, { body, pathParameters: { ...pathParameters } });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect((response.body.details as { field: string }).field).toBe(field);
  });

  it('declares, lists and drops rollups, and a saved dashboard says which source serves each widget', async () => {
    // Prepare: a dataset with rows and an RLS rule on team
    await admin('POST', '/v1/admin/datasets', { body: { datasetId: 'rolled', name: 'Rolled', schema } });
    await admin('POST', '/v1/admin/datasets/{datasetId}/imports', {
      pathParameters: { datasetId: 'rolled' },
      body: { format: 'csv', content: 'day,team,score\n2025-01-01,red,3\n2025-01-02,blue,4\n2025-01-02,red,5\n' },
    });
    await admin('PUT', '/v1/admin/datasets/{datasetId}/rls-rules', {
      pathParameters: { datasetId: 'rolled' },
      body: { rules: [{ column: 'team', source: { kind: 'identity', claim: 'custom:team' } }] },
    });
    const path = { datasetId: 'rolled', rollupId: 'by-team-day' };
    // Act: declare on the active version
    const declared = await admin('PUT', '/v1/admin/datasets/{datasetId}/rollups/{rollupId}', {
      pathParameters: path,
      body: {
        dimensions: ['team'],
        time: { column: 'day', granularity: 'day' },
        measures: [{ op: 'sum', column: 'score' }],
      },
    });
    const invalid = await admin('PUT', '/v1/admin/datasets/{datasetId}/rollups/{rollupId}', {
      pathParameters: { datasetId: 'rolled', rollupId: 'bad' },
      body: { dimensions: ['nope'], measures: [{ op: 'count' }] },
    });
    const widgets = [
      {
        id: 'by-week',
        type: 'line',
        title: 'Score by week',
        datasetId: 'rolled',
        query: { groupBy: [{ column: 'day', bucket: 'week' }], metrics: [{ op: 'sum', column: 'score' }] },
      },
      {
        id: 'avg',
        type: 'number',
        title: 'Average',
        datasetId: 'rolled',
        query: { metrics: [{ op: 'avg', column: 'score' }] },
      },
      {
        id: 'max',
        type: 'number',
        title: 'Best',
        datasetId: 'rolled',
        query: { metrics: [{ op: 'max', column: 'score' }] },
      },
    ];
    const saved = await admin('POST', '/v1/admin/dashboards', {
      body: { dashboardId: 'rolled-board', title: 'Rolled', widgets },
    });
    const listed = await admin('GET', '/v1/admin/datasets/{datasetId}/rollups', {
      pathParameters: { datasetId: 'rolled' },
    });
    const dropped = await admin('DELETE', '/v1/admin/datasets/{datasetId}/rollups/{rollupId}', {
      pathParameters: path,
    });
    const after = await admin('GET', '/v1/admin/datasets/{datasetId}/rollups', {
      pathParameters: { datasetId: 'rolled' },
    });
    const missing = await admin('DELETE', '/v1/admin/datasets/{datasetId}/rollups/{rollupId}', {
      pathParameters: path,
    });
    // Assess
    expect(declared.status).toBe(200);
    expect(declared.body).toMatchObject({ id: 'by-team-day', ready: true, items: 3 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('DATASET_SCHEMA_INVALID');
    expect(saved.status).toBe(201);
    expect(saved.body.sources).toEqual({
      'by-week': { source: 'rollup:by-team-day' },
      avg: { source: 'rollup:by-team-day' },
      max: {
        source: 'raw',
        reason: 'no rollup covers this widget (by-team-day: metric max(score) is not a measure of the rollup)',
      },
    });
    expect(listed.body.rollups).toEqual([
      {
        id: 'by-team-day',
        dimensions: ['team'],
        time: { column: 'day', granularity: 'day' },
        measures: [{ op: 'sum', column: 'score' }],
        ready: true,
        items: 3,
      },
    ]);
    expect(dropped.status).toBe(204);
    expect(after.body.rollups).toEqual([]);
    expect(missing.status).toBe(404);
  });
});
