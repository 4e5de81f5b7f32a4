import type { FuseConfig } from '@electron/fuses'

export interface AfterPackContext {
  appOutDir: string
  electronPlatformName: string
  packager: { appInfo: { productFilename: string }; executableName?: string }
}
export const FUSES: FuseConfig
export function electronBinary(context: AfterPackContext): string
export default function afterPack(context: AfterPackContext): Promise<void>
