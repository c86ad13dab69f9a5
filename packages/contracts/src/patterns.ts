/**
 * The same anchored pattern, also matching ''. Field schemas check "required" with `.min(1)`
 * and the shape with this, so an empty value gets one message, not two. (`abort: true` on the
 * min check would do that too, but an aborting issue also skips the request's cross-field
 * checks, hiding e.g. the output-path error while the name is still empty.)
 */
export function orEmpty(anchored: RegExp): RegExp {
  const src = anchored.source;
  if (!src.startsWith('^') || !src.endsWith('$')) throw new Error(`pattern must be anchored: ${src}`);
  return new RegExp(`^(?:${src.slice(1, -1)})?$`, anchored.flags);
}
