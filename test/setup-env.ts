import { inject } from 'vitest';

// Every test talks to DynamoDB Local through the SDK's standard endpoint variable, exactly as
// the local dev stack does; no AWS credentials or network are ever needed.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
delete process.env.AWS_PROFILE;
process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamoEndpoint');
process.env.CONTROL_TABLE_NAME ??= 'test-control';
process.env.DATA_TABLE_NAME ??= 'test-data';
