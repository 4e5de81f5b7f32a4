import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MethodResults, ParsedArgs } from '../../shared/contract'
import { AppError } from '../../shared/result'
import type { AppInfo } from '../../shared/types'
import { projectRoot, sampleDatasetPath } from '../util/paths'

type AppMethods = 'app.info' | 'dialog.pickFolder'
export type AppHandlers = {
  [M in AppMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods about the app itself: its version and data folder, and the folder dialog. */
export function appHandlers(ctx: {
  home: string
  shell: AppInfo['shell']
  pickFolder?: () => Promise<string | null>
}): AppHandlers {
  return {
    'app.info': () => ({
      version: appVersion(),
      home: ctx.home,
      shell: ctx.shell,
      canPickFolder: Boolean(ctx.pickFolder),
      sample: { path: sampleDatasetPath(), available: existsSync(sampleDatasetPath()) },
    }),
    'dialog.pickFolder': async () => {
      if (!ctx.pickFolder)
        throw new AppError(
          'unsupported',
          'A folder dialog is only available in the desktop app; paste the folder path instead.',
        )
      return { path: await ctx.pickFolder() }
    },
  }
}

let version: string | undefined
function appVersion(): string {
  version ??= (
    JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version
  return version
}
