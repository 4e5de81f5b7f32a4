import { join } from 'node:path'
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses'

/**
 * The fuses flipped in every packaged build (bits in the Electron binary, fixed at packaging and
 * covered by the code signature):
 * - RunAsNode off: ELECTRON_RUN_AS_NODE=1 cannot turn the app into a plain Node that runs any
 *   script with the app's permissions (the ML workers use utilityProcess, not fork).
 * - EnableCookieEncryption on: the cookie store is encrypted with an OS-held key.
 * - EnableNodeOptionsEnvironmentVariable off: NODE_OPTIONS cannot inject code (--require).
 * - EnableNodeCliInspectArguments off: --inspect cannot attach a debugger to the main process.
 * - EnableEmbeddedAsarIntegrityValidation on: app.asar is checked against the hash recorded at
 *   packaging (macOS, Windows), so an edited archive does not load.
 * - OnlyLoadAppFromAsar on: the app is loaded only from app.asar, never from an app/ folder
 *   put beside it.
 */
export const FUSES = {
  version: FuseVersion.V1,
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
}

/** The packaged Electron executable (named as electron-builder names it on each platform). */
export function electronBinary(context) {
  const { appOutDir, electronPlatformName, packager } = context
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas')
    return join(appOutDir, `${packager.appInfo.productFilename}.app`)
  if (electronPlatformName === 'win32')
    return join(appOutDir, `${packager.appInfo.productFilename}.exe`)
  return join(appOutDir, packager.executableName)
}

/**
 * electron-builder's afterPack hook: runs once per platform and architecture, after the app is
 * copied and before it is signed, so the signature covers the flipped fuses.
 */
export default async function afterPack(context) {
  const mac = context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas'
  // Apple silicon refuses a binary whose ad-hoc signature no longer matches its bytes.
  await flipFuses(electronBinary(context), { ...FUSES, resetAdHocDarwinSignature: mac })
}
