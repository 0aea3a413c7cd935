/**
 * Gives a wrapper the metadata and name of the handler it wraps, so that decorators applied
 * before or after the wrapping (routes, status codes, other libraries') still find theirs.
 */
export function keepHandlerMetadata<T extends (...args: never[]) => unknown>(handler: T, wrapper: T): T {
  for (const key of Reflect.getMetadataKeys(handler)) Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), wrapper);
  Object.defineProperty(wrapper, 'name', { value: handler.name });
  return wrapper;
}
