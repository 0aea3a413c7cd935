import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from './bigint.transformer.js';

export type ReservationState = 'held' | 'committed' | 'released' | 'expired';

/**
 * The budget ledger: one row per reservation. Inserting a `held` row reserves its amount in
 * every window it names (or fails, atomically, if one cannot hold it); settling it moves the
 * amount from reserved to spent. Both happen in the same statement, through triggers.
 */
@Entity({ name: 'resilient_llm_budget_reservation' })
@Index('idx_resilient_llm_reservation_lease', ['state', 'leaseExpiresAt'])
export class BudgetReservationEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** JSON array of budget window ids. */
  @Column({ name: 'window_ids', type: 'text' })
  windowIds: string;

  @Column({ type: 'varchar', length: 255 })
  scope: string;

  @Column({ type: 'varchar', length: 128 })
  model: string;

  @Column({ name: 'amount_micro', type: 'bigint', transformer: bigintTransformer })
  amountMicro: number;

  @Column({ name: 'actual_micro', type: 'bigint', default: 0, transformer: bigintTransformer })
  actualMicro: number;

  @Column({ name: 'waste_micro', type: 'bigint', default: 0, transformer: bigintTransformer })
  wasteMicro: number;

  /** The part of `amountMicro` that covers requests already sent: what an expired lease charges, as waste. */
  @Column({ name: 'in_flight_micro', type: 'bigint', default: 0, transformer: bigintTransformer })
  inFlightMicro: number;

  /** JSON array of the limits the inserting replica checked, one per window id; null: the stored limits. */
  @Column({ name: 'window_limits', type: 'text', nullable: true })
  windowLimits: string | null;

  @Column({ type: 'varchar', length: 16 })
  state: ReservationState;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintTransformer })
  createdAt: number;

  @Column({ name: 'lease_expires_at', type: 'bigint', transformer: bigintTransformer })
  leaseExpiresAt: number;

  @Column({ name: 'settled_at', type: 'bigint', nullable: true, transformer: bigintTransformer })
  settledAt: number | null;
}
