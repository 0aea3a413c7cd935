/** Telemetry's slice of the resolved module options (token `RESILIENT_LLM_TELEMETRY_SETTINGS`). */
export interface TelemetrySettings {
  readonly telemetry: {
    /** Record prompts and completions on attempt spans. */
    readonly captureContent: boolean;
    /** `gen_ai.provider.name` on attempt spans. */
    readonly providerName: string;
  };
}
