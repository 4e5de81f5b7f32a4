export type ErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'conflict'
  | 'unsupported'
  | 'io'
  | 'cancelled'
  | 'internal'
  | 'forbidden'

export interface ApiError {
  code: ErrorCode
  message: string
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError }

/** An error whose code and message are safe to show to a person. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof AppError) return { code: err.code, message: err.message }
  const e = err as { code?: unknown; message?: unknown }
  if (typeof e?.code === 'string' && typeof e.message === 'string' && e.code in CODES) {
    return { code: e.code as ErrorCode, message: e.message }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'internal', message: `Unexpected error: ${message}` }
}

const CODES: Record<ErrorCode, true> = {
  invalid_argument: true,
  not_found: true,
  conflict: true,
  unsupported: true,
  io: true,
  cancelled: true,
  internal: true,
  forbidden: true,
}
