import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';

export const chatRequestSchema = z.strictObject({
  message: z.string().trim().min(1, 'must not be empty').max(32_000, 'must be at most 32 000 characters'),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Rejects a malformed `POST /chat` body with a 400 that says which field is wrong, before any upstream call. */
export class ChatRequestPipe implements PipeTransform<unknown, ChatRequest> {
  transform(value: unknown): ChatRequest {
    const result = chatRequestSchema.safeParse(value);
    if (result.success) return result.data;
    throw new BadRequestException({
      statusCode: 400,
      code: 'invalid_request',
      message: result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
    });
  }
}
