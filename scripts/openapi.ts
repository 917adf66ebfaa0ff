import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../functions/api/openapi.ts';

/** Writes docs/openapi.json from the route table and the request schemas (`npm run openapi`). */
const target = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
