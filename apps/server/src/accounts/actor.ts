/**
 * Who is asking. Every use case that reads or changes users' things takes one: users see and
 * act on what they own; admins on everything.
 */
export interface Actor {
  userId: number;
  username: string;
  admin: boolean;
}

/** Whether the actor may see or act on a thing with this owner (null: made before accounts existed). */
export function canAccess(actor: Actor, ownerId: number | null): boolean {
  return actor.admin || ownerId === actor.userId;
}

/** The owner a list is narrowed to: undefined for admins, who see everything. */
export function ownerScope(actor: Actor): number | undefined {
  return actor.admin ? undefined : actor.userId;
}
