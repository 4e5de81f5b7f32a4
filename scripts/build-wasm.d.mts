export const PARTS: string[]
export const FMA_PARTS: string[]
export const OUT: string
export function fuseMultiplyAdds(text: string): string
export function moduleText(relaxed?: boolean): string
export function generate(): Promise<string>
