/**
 * Whether `error` carries `brand`: the library's error classes are told apart by a registered
 * symbol, not `instanceof`, so that an error from another copy of the library (ESM and CommonJS,
 * two versions in one app) is still recognised.
 */
export const hasBrand = (error: unknown, brand: symbol): boolean => typeof error === 'object' && error !== null && brand in error;
