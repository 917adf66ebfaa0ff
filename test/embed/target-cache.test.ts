import { describe, expect, it, vi } from 'vitest';
import type { DashboardRepository } from '#control/dashboards';
import type { EmbedRepository } from '#control/embeds';
import { createEmbedTargetCache } from '../../functions/embed/resources.ts';

function repositories(enabled: () => boolean) {
  const embeds = {
    get: vi.fn(async (tenantId: string, embedId: string) => ({
      tenantId,
      embedId,
      resource: { type: 'dashboard', id: 'd1' },
      parameterModes: {},
      allowedOrigins: [],
      maxTokenLifetimeSeconds: 300,
      enabled: enabled(),
      updatedAt: '',
    })),
  };
  const dashboards = {
    get: vi.fn(async (tenantId: string, dashboardId: string) => ({
      tenantId,
      dashboardId,
      title: 'D',
      parameters: [],
      widgets: [],
      updatedAt: '',
    })),
  };
  return {
    embeds: embeds as unknown as EmbedRepository,
    dashboards: dashboards as unknown as DashboardRepository,
    spies: { embeds, dashboards },
  };
}

describe('createEmbedTargetCache', () => {
  it('serves an enabled target from memory within its TTL, per tenant, then reloads', async () => {
    let now = 0;
    const repos = repositories(() => true);
    const load = createEmbedTargetCache({ ttlMs: 5_000, now: () => now });
    await load(repos, 'acme', 'e1');
    await load(repos, 'acme', 'e1');
    await load(repos, 'globex', 'e1');
    expect(repos.spies.embeds.get).toHaveBeenCalledTimes(2);
    now = 5_001;
    await load(repos, 'acme', 'e1');
    expect(repos.spies.embeds.get).toHaveBeenCalledTimes(3);
  });

  it('never caches a refusal: a disabled embed is asked again next time', async () => {
    let enabled = false;
    const repos = repositories(() => enabled);
    const load = createEmbedTargetCache({ ttlMs: 5_000, now: () => 0 });
    await expect(load(repos, 'acme', 'e1')).rejects.toMatchObject({ code: 'EMBED_DISABLED' });
    enabled = true;
    await expect(load(repos, 'acme', 'e1')).resolves.toMatchObject({ embed: { embedId: 'e1' } });
  });
});
