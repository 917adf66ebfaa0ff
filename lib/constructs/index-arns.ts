import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { KeyDesign } from '../table-design.ts';

/** ARNs of a table's global secondary indexes, by name from its key design (never `index/*`). */
export function indexArns(table: ITable, design: KeyDesign): string[] {
  return design.globalIndexes.map((index) => `${table.tableArn}/index/${index.name}`);
}
