import { useFormContext } from 'react-hook-form';
import type { CreateTrainingJobInput } from '@tc/contracts';
import type { WizardValues } from './values';

export function useWizardForm() {
  return useFormContext<WizardValues, unknown, CreateTrainingJobInput>();
}
