import { parseFaultScript } from '@app/fault-upstream';
import { z } from 'zod';

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const usdAmount = z
  .string()
  .optional()
  .transform((value, context) => {
    if (value === undefined || value.trim() === '') return undefined;
    const amount = Number(value);
    if (!Number.isFinite(amount) || amount < 0) {
      context.addIssue({ code: 'custom', message: `must be a dollar amount >= 0, got "${value}"` });
      return z.NEVER;
    }
    return amount;
  });

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** The example app's settings, from the environment (or `.env`); see `.env.example`. */
export const environmentSchema = z.object({
  PORT: port(3000),
  OPENAI_API_KEY: optionalNonEmpty,
  OPENAI_BASE_URL: optionalNonEmpty.pipe(z.url({ message: 'must be an absolute URL such as https://api.openai.com/v1' }).optional()),
  LLM_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  RESILIENT_LLM_DB: z
    .string()
    .trim()
    .default('./data/resilient-llm.sqlite')
    .refine((value) => value !== '', 'must be ":memory:", a postgres:// URL or an SQLite file path'),
  BUDGET_DAILY_USD: usdAmount,
  BUDGET_MONTHLY_USD: usdAmount,
  UPSTREAM_PORT: port(4010),
  UPSTREAM_FAULTS: z
    .string()
    .optional()
    .superRefine((value, context) => {
      try {
        parseFaultScript(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
});

export type AppEnvironment = z.infer<typeof environmentSchema>;

/** For `ConfigModule.forRoot({ validate })`: a bad variable stops the app at startup, named. */
export function validateEnvironment(raw: Record<string, unknown>): AppEnvironment {
  const result = environmentSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid environment:\n${problems.join('\n')}`);
}
