import { z } from 'zod';
import { Timestamp } from './timestamp.js';
import { cleanText } from './text.js';

/** Accounts, sessions, API tokens and the audit log: one rule each, for the server and the forms. */

export const Username = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{1,31}$/, { error: 'a username is 2-32 lowercase letters, digits, ".", "_" or "-", starting with a letter' });

/** Length over composition rules (NIST SP 800-63B); the upper bound keeps hashing cheap to refuse. */
export const Password = z
  .string()
  .min(10, { error: 'a password has at least 10 characters' })
  .max(256, { error: 'a password has at most 256 characters' });

export const Role = z.enum(['admin', 'user']);
export type Role = z.infer<typeof Role>;

export const User = z.object({
  username: Username,
  role: Role,
  createdAt: Timestamp,
});
export type User = z.infer<typeof User>;

export const UserList = z.object({ items: z.array(User), total: z.int().min(0) });
export type UserList = z.infer<typeof UserList>;

export const CreateUserRequest = z.strictObject({ username: Username, password: Password, role: Role.default('user') });
export type CreateUserRequest = z.input<typeof CreateUserRequest>;

export const UserParams = z.object({ username: z.string().min(1).max(64) });

export const SignInRequest = z.strictObject({
  username: z.string().min(1, { error: 'enter your username' }).max(64),
  // Not the Password rule: a sign-in checks the stored hash, it does not set a password.
  password: z.string().min(1, { error: 'enter your password' }).max(256),
});
export type SignInRequest = z.infer<typeof SignInRequest>;

/** The signed-in user and the token the browser sends back in X-CSRF-Token on every change. */
export const Session = z.object({
  user: User,
  csrfToken: z.string(),
  expiresAt: Timestamp,
});
export type Session = z.infer<typeof Session>;

export const CSRF_HEADER = 'x-csrf-token';

/** Whether the console still waits for its first admin (no users, no ADMIN_PASSWORD). */
export const SetupState = z.object({ required: z.boolean() });
export type SetupState = z.infer<typeof SetupState>;

export const SetupRequest = z.strictObject({
  /** The one-time code the server printed to its log at start. */
  setupCode: z.string().min(1, { error: 'enter the setup code from the server log' }).max(128),
  username: Username,
  password: Password,
});
export type SetupRequest = z.infer<typeof SetupRequest>;

/** The session making the change stays; the user's other sessions end, and their API tokens too if asked. */
export const ChangePasswordRequest = z.strictObject({
  currentPassword: z.string().min(1, { error: 'enter your current password' }).max(256),
  newPassword: Password,
  /** Also revoke every API token of the user (one that makes this request included). */
  revokeTokens: z.boolean({ error: 'revokeTokens must be true or false' }).optional(),
});
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

/** What a password change ended, so the page can say so. */
export const PasswordChanged = z.object({
  /** Other sessions (browsers) of the user that were signed out. */
  sessionsEnded: z.int().min(0),
  /** API tokens revoked; 0 unless revokeTokens was true. */
  tokensRevoked: z.int().min(0),
});
export type PasswordChanged = z.infer<typeof PasswordChanged>;

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  /** The first characters, to tell tokens apart; the token itself is shown once, at creation. */
  prefix: z.string(),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

export const ApiTokenList = z.object({ items: z.array(ApiToken) });
export type ApiTokenList = z.infer<typeof ApiTokenList>;

export const CreateApiTokenRequest = z.strictObject({
  name: cleanText(
    z.string().trim().min(1, { error: 'give the token a name' }).max(64, { error: 'a token name has at most 64 characters' }),
    'a token name',
  ),
});
export type CreateApiTokenRequest = z.infer<typeof CreateApiTokenRequest>;

/** Only in the answer to a create: send it as `Authorization: Bearer <token>`. */
export const CreatedApiToken = ApiToken.extend({ token: z.string() });
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;

export const ApiTokenParams = z.object({ id: z.string().regex(/^\d{1,15}$/, { error: 'a token id is a number' }) });

export const AuditEntry = z.object({
  id: z.int(),
  at: Timestamp,
  /** null: an unauthenticated attempt (a failed sign-in). */
  username: z.string().nullable(),
  /** e.g. "POST /api/v1/training-jobs" or "sign-in failed". */
  action: z.string(),
  /** What was acted on, e.g. the job's name and version or the path. */
  target: z.string(),
  status: z.int(),
  ip: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = z.object({
  username: z.string().max(64).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditLog = z.object({ items: z.array(AuditEntry), total: z.int().min(0) });
export type AuditLog = z.infer<typeof AuditLog>;
