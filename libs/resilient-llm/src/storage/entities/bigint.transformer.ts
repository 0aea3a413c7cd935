import type { ValueTransformer } from 'typeorm';

/** PostgreSQL returns BIGINT as a string; money and instants here are safe integers. */
export const bigintTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
