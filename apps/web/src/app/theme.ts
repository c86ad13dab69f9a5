import {
  Alert,
  Anchor,
  createTheme,
  darken,
  defaultVariantColorsResolver,
  Drawer,
  Modal,
  parseThemeColor,
  toRgba,
  type VariantColorsResolver,
} from '@mantine/core';

/** WCAG relative luminance of a colour Mantine can parse. */
function luminanceOf(color: string): number {
  const { r, g, b } = toRgba(color);
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The colour, darkened in small steps until it reaches `ratio` against white (WCAG AA text: 4.5). */
export function readableOnWhite(color: string, ratio: number): string {
  let c = color;
  for (let i = 0; i < 20 && 1.05 / (luminanceOf(c) + 0.05) < ratio; i++) c = darken(c, 0.06);
  return c;
}

/**
 * Mantine's default shades put white text on blue 6 (3.5:1) and tinted text on light badges
 * under 4.5:1. Colours named without a shade ("blue", "green") are darkened just enough for AA;
 * an explicit shade ("gray.3" on the dark header) is the caller's choice and stays.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const base = defaultVariantColorsResolver(input);
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  if (!parsed.isThemeColor || parsed.shade !== undefined || parsed.color === 'dark') return base;
  const shades = input.theme.colors[parsed.color];
  if (!shades) return base;
  if (input.variant === 'filled') {
    const background = readableOnWhite(shades[6], 4.6);
    return { ...base, background, hover: darken(background, 0.12), color: 'var(--mantine-color-white)' };
  }
  if (input.variant === 'light' || input.variant === 'subtle' || input.variant === 'outline' || input.variant === 'transparent') {
    // The light variants sit on a tint of the colour itself (grape 8 on its tint is 4.46:1): aim for 7:1 on white.
    const color = readableOnWhite(shades[8], 7);
    return { ...base, color, hoverColor: color, border: input.variant === 'outline' ? `1px solid ${color}` : base.border };
  }
  return base;
};

export const theme = createTheme({
  primaryColor: 'blue',
  // Filled buttons in shade 8: white on blue 8 is 5:1 (on Mantine's default shade 6, 3.6:1).
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'sm',
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
  variantColorResolver,
  // Icon-only close buttons carry no text: every one gets a name for screen readers.
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close panel' } } }),
    Alert: Alert.extend({ defaultProps: { closeButtonLabel: 'Dismiss' } }),
    // A link inside a sentence must not be told apart by colour alone.
    Anchor: Anchor.extend({ defaultProps: { underline: 'always' } }),
    // A table wider than the screen scrolls inside its container, which keyboard users must reach.
    TableScrollContainer: { defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: 0 } } } },
  },
});
