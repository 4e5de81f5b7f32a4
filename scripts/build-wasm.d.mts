export const PARTS: string[]
export const OUT: string
export function moduleText(): string
export function generate(): Promise<string>
