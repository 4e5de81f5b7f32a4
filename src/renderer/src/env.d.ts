/// <reference types="vite/client" />
import type { ElectronBridge } from './api'

declare global {
  interface Window {
    synthfold?: ElectronBridge
  }
}
