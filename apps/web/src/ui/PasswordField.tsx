import { forwardRef } from 'react';
import { PasswordInput, type PasswordInputProps } from '@mantine/core';

/**
 * Mantine's PasswordInput with a show/hide toggle whose name does not repeat the word
 * "password", so a lookup by the field's label ("Password") finds the field alone.
 */
export const PasswordField = forwardRef<HTMLInputElement, PasswordInputProps>(function PasswordField(props, ref) {
  return <PasswordInput ref={ref} visibilityToggleButtonProps={{ 'aria-label': 'Show or hide the characters' }} {...props} />;
});
