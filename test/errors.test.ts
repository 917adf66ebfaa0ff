import { describe, expect, it } from 'vitest';
import {
  EmbedTokenExpired,
  EmbedTokenIdentityMismatch,
  InternalError,
  ParamDisabled,
  ValidationFailed,
  toEmbedError,
} from '#errors';

describe('errors', () => {
  it('gives every error a stable code, a status and a caller-safe body', () => {
    expect(new EmbedTokenExpired().toJSON()).toEqual({
      code: 'EMBED_TOKEN_EXPIRED',
      message: 'The embed token has expired.',
    });
    expect(new EmbedTokenExpired().status).toBe(401);
    expect(new EmbedTokenIdentityMismatch().status).toBe(403);
    expect(new ParamDisabled('region').toJSON()).toEqual({
      code: 'PARAM_DISABLED',
      message: 'Parameter "region" is disabled for this embed.',
      details: { parameter: 'region' },
    });
    expect(new ValidationFailed('embedId', 'is required').details).toEqual({ field: 'embedId', reason: 'is required' });
    expect(new EmbedTokenExpired().name).toBe('EmbedTokenExpired');
  });

  it('hides anything unexpected behind INTERNAL_ERROR without leaking the message', () => {
    const error = toEmbedError(new Error('ResourceNotFoundException: table prod-control at arn:aws:...'));
    expect(error).toBeInstanceOf(InternalError);
    expect(error.toJSON()).toEqual({ code: 'INTERNAL_ERROR', message: 'An internal error occurred.' });
    expect(JSON.stringify(error.toJSON())).not.toContain('arn:aws');
  });
});
