import { z } from 'zod';

/** `path` is dot-joined (`env.0.name`), '' for the request as a whole, so forms can map it to a field. */
export const FieldError = z.object({
  path: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

/** The one error body of the API; `error` is a stable machine code, `message` is for people. */
export const ApiError = z.object({
  error: z.string(),
  message: z.string(),
  requestId: z.string().optional(),
  fields: z.array(FieldError).optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/** Takes the core error type so errors from zod/mini and from classic zod both work. */
export function fieldErrorsFromZod(error: z.core.$ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}
