export const WAT: string
export const OUT: string
export function generate(): Promise<string>
