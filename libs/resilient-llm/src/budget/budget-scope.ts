/** How scopes are named in the ledger: `global`, or `key:<scope key>` so that no tenant can be called "global". */
export const GLOBAL_SCOPE = 'global';

export const scopeIdOf = (scopeKey: string | undefined): string => (scopeKey === undefined ? GLOBAL_SCOPE : `key:${scopeKey}`);

/** The name users know a ledger scope by: `global`, or their scope key. */
export const scopeKeyOf = (scopeId: string): string => (scopeId === GLOBAL_SCOPE ? GLOBAL_SCOPE : scopeId.replace(/^key:/, ''));
