import { useEffect } from 'react';
import { useMatches, type Params } from 'react-router';

/** A route's `handle`: the page's name, for the window title (and a screen reader's first words). */
export interface RouteHandle {
  title: string | ((params: Params) => string);
}

const APP = 'Training Console';

function isHandle(h: unknown): h is RouteHandle {
  return typeof h === 'object' && h !== null && 'title' in h;
}

/** Sets document.title from the deepest matched route that names itself: "Users · Training Console". */
export function DocumentTitle() {
  const matches = useMatches();
  const match = [...matches].reverse().find((m) => isHandle(m.handle));
  const handle = match && isHandle(match.handle) ? match.handle : undefined;
  const title = handle ? (typeof handle.title === 'function' ? handle.title(match?.params ?? {}) : handle.title) : undefined;
  useEffect(() => {
    document.title = title ? `${title} · ${APP}` : APP;
  }, [title]);
  return null;
}
