import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from './bigint.transformer.js';

/**
 * One calendar window of one scope (`global|daily|2026-11-26`). Its counters are maintained
 * by database triggers on the reservation ledger, never written by application code.
 */
@Entity({ name: 'resilient_llm_budget_window' })
export class BudgetWindowEntity {
  @PrimaryColumn({ type: 'varchar', length: 320 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  scope: string;

  @Column({ type: 'varchar', length: 16 })
  kind: string;

  @Column({ type: 'varchar', length: 16 })
  period: string;

  @Column({ name: 'starts_at', type: 'bigint', transformer: bigintTransformer })
  startsAt: number;

  @Column({ name: 'ends_at', type: 'bigint', transformer: bigintTransformer })
  endsAt: number;

  @Column({ name: 'limit_micro', type: 'bigint', transformer: bigintTransformer })
  limitMicro: number;

  @Column({ name: 'spent_micro', type: 'bigint', default: 0, transformer: bigintTransformer })
  spentMicro: number;

  @Column({ name: 'reserved_micro', type: 'bigint', default: 0, transformer: bigintTransformer })
  reservedMicro: number;

  @Column({ name: 'waste_micro', type: 'bigint', default: 0, transformer: bigintTransformer })
  wasteMicro: number;
}
