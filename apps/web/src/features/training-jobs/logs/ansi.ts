import Anser from 'anser';
import type { CSSProperties } from 'react';

export interface AnsiSegment {
  text: string;
  style?: CSSProperties;
}

// eslint-disable-next-line no-control-regex -- ESC is what an ANSI sequence starts with
const ANSI_SEQUENCE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** The text without colour codes: what search matches and what a copy should get. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SEQUENCE, '');
}

/** SGR colours and weights as inline styles; other control sequences are dropped. */
export function toSegments(text: string): AnsiSegment[] {
  if (!text.includes('\u001b')) return [{ text }];
  const out: AnsiSegment[] = [];
  for (const e of Anser.ansiToJson(text, { use_classes: false, remove_empty: true })) {
    const style: CSSProperties = {};
    if (e.fg) style.color = `rgb(${e.fg})`;
    if (e.bg) style.backgroundColor = `rgb(${e.bg})`;
    const d = e.decorations ?? [];
    if (d.includes('bold')) style.fontWeight = 700;
    if (d.includes('dim')) style.opacity = 0.7;
    if (d.includes('italic')) style.fontStyle = 'italic';
    if (d.includes('underline')) style.textDecoration = 'underline';
    if (d.includes('strikethrough')) style.textDecoration = 'line-through';
    const content = e.content.replace(ANSI_SEQUENCE, '');
    if (content) out.push(Object.keys(style).length > 0 ? { text: content, style } : { text: content });
  }
  return out;
}
